import { counterBackwards, counterJump, offline } from './common.ts';
import { defineRules } from './define-rules.ts';

// Low voltage supply: EVN's nominal is 230 V (IEC 60038). Circular 39/2015/TT-BCT (distribution
// grid code), Art. 5: at a customer's connection point voltage may deviate +-5 % of nominal in
// normal operation, and +5 % / -10 % while the grid is not yet stable after an incident.
export default defineRules('electricity_meter', [
  {
    id: 'voltage_low',
    severity: 'minor',
    description: 'Supply voltage below the normal band (-5 %)',
    condition: { field: 'voltage_v', op: '<', param: 'min' },
    params: { min: 218.5 },
    deadband: 2,
    onDelaySeconds: 300,
    offDelaySeconds: 300,
    message: 'voltage {value} {unit} below {min} {unit} (230 V -5 %)',
    source: 'Circular 39/2015/TT-BCT Art. 5: +-5 % of 230 V in normal operation',
  },
  {
    id: 'voltage_very_low',
    severity: 'major',
    description: 'Supply voltage below the incident band (-10 %)',
    condition: { field: 'voltage_v', op: '<', param: 'min' },
    params: { min: 207 },
    deadband: 2,
    onDelaySeconds: 60,
    offDelaySeconds: 300,
    message: 'voltage {value} {unit} below {min} {unit} (230 V -10 %)',
    source: 'Circular 39/2015/TT-BCT Art. 5: -10 % of 230 V after an incident',
  },
  {
    id: 'voltage_high',
    severity: 'major',
    description: 'Supply voltage above the band (+5 %)',
    condition: { field: 'voltage_v', op: '>', param: 'max' },
    params: { max: 241.5 },
    deadband: 2,
    onDelaySeconds: 300,
    offDelaySeconds: 300,
    message: 'voltage {value} {unit} above {max} {unit} (230 V +5 %)',
    source: 'Circular 39/2015/TT-BCT Art. 5: +5 % of 230 V',
  },
  {
    id: 'power_factor_low',
    severity: 'warning',
    description: 'Power factor below 0.9 under load (reactive power is billed below it)',
    condition: {
      all: [
        { field: 'power_factor', op: '<', param: 'min' },
        // At a few watts the meter's cos phi is noise.
        { field: 'power_w', op: '>', param: 'minLoadW' },
      ],
    },
    valueField: 'power_factor',
    params: { min: 0.9, minLoadW: 1000 },
    deadband: 0.02,
    onDelaySeconds: 900,
    offDelaySeconds: 900,
    message: 'power factor {value} below {min}',
    source: 'Circular 15/2014/TT-BCT: reactive power charged when cos phi < 0.9',
  },
  {
    id: 'relay_open_uncommanded',
    severity: 'major',
    description: 'Supply relay open although no command opened it (trip, tamper, fault)',
    condition: {
      all: [
        { field: 'relay_closed', op: '==', value: false },
        { field: 'relay_closed', source: 'desired', op: '!=', value: false },
      ],
    },
    params: {},
    deadband: 0,
    onDelaySeconds: 60,
    offDelaySeconds: 60,
    message: 'relay open and no command asked for it',
    source: 'desired state of the command service',
  },
  offline(),
  counterBackwards('energy'),
  counterJump('energy'),
]);
