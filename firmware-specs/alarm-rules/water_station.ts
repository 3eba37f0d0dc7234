import { counterBackwards, offline } from './common.ts';
import { defineRules } from './define-rules.ts';

// Drinking water quality: QCVN 01-1:2018/BYT (national technical regulation on domestic water
// quality, Ministry of Health), Group A parameters: turbidity <= 2 NTU, free residual chlorine
// 0.2-1.0 mg/L, pH 6.0-8.5. Quality rules wait 5 minutes: a probe spikes when a valve moves.
export default defineRules('water_station', [
  {
    id: 'pressure_low',
    severity: 'major',
    description: 'Network pressure too low to serve upper floors (pump lost, main burst)',
    condition: { field: 'pressure_bar', op: '<', param: 'min' },
    // TCVN 33:2006 asks at least 10 m of free head (about 1 bar) at a one-storey house's
    // connection, plus 4 m per further storey.
    params: { min: 1 },
    deadband: 0.2,
    onDelaySeconds: 120,
    offDelaySeconds: 120,
    message: 'pressure {value} {unit} below {min} {unit}',
    source: 'TCVN 33:2006 minimum free head 10 m (~1 bar) at the service connection',
  },
  {
    id: 'pressure_high',
    severity: 'minor',
    description: 'Network pressure high: leakage and bursts grow with pressure',
    condition: { field: 'pressure_bar', op: '>', param: 'max' },
    // A typical band: distribution mains are PN10 and operators keep station outlets under
    // ~6 bar; TCVN 33:2006 caps free head in the distribution network at 40 m (~4 bar), which
    // a booster outlet legitimately exceeds.
    params: { max: 6 },
    deadband: 0.3,
    onDelaySeconds: 120,
    offDelaySeconds: 120,
    message: 'pressure {value} {unit} above {max} {unit}',
    source: 'typical operating band; PN10 mains; TCVN 33:2006 (40 m max free head in distribution)',
  },
  {
    id: 'turbidity_high',
    severity: 'major',
    description: 'Turbidity above the drinking water limit',
    condition: { field: 'turbidity_ntu', op: '>', param: 'max' },
    params: { max: 2 },
    deadband: 0.3,
    onDelaySeconds: 300,
    offDelaySeconds: 300,
    message: 'turbidity {value} {unit} above {max} {unit}',
    source: 'QCVN 01-1:2018/BYT: turbidity <= 2 NTU',
  },
  {
    id: 'chlorine_out_of_range',
    severity: 'major',
    description: 'Free residual chlorine outside the drinking water range',
    condition: {
      any: [
        { field: 'chlorine_mgl', op: '<', param: 'min' },
        { field: 'chlorine_mgl', op: '>', param: 'max' },
      ],
    },
    params: { min: 0.2, max: 1 },
    deadband: 0.05,
    onDelaySeconds: 300,
    offDelaySeconds: 300,
    message: 'free chlorine {value} {unit} outside {min}-{max} {unit}',
    source: 'QCVN 01-1:2018/BYT: free residual chlorine 0.2-1.0 mg/L',
  },
  {
    id: 'ph_out_of_range',
    severity: 'minor',
    description: 'pH outside the drinking water range',
    condition: {
      any: [
        { field: 'ph', op: '<', param: 'min' },
        { field: 'ph', op: '>', param: 'max' },
      ],
    },
    params: { min: 6, max: 8.5 },
    deadband: 0.1,
    onDelaySeconds: 300,
    offDelaySeconds: 300,
    message: 'pH {value} outside {min}-{max}',
    source: 'QCVN 01-1:2018/BYT: pH 6.0-8.5',
  },
  offline(),
  counterBackwards('volume'),
]);
