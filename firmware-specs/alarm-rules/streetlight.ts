import { counterBackwards, counterJump, offline } from './common.ts';
import { defineRules } from './define-rules.ts';

// Photocontrols switch a lamp on below about 10-22 lux and off above 1.5-2 times that
// (ANSI C136.10); a city sky at night stays under 10 lux, daylight is thousands of lux.
export default defineRules('streetlight', [
  {
    id: 'lamp_fault',
    severity: 'major',
    description: 'The controller reports a fault code (lamp, driver or power failure)',
    condition: { field: 'fault_code', op: '!=', value: 0 },
    params: {},
    deadband: 0,
    // Controllers set a code for a single failed ignition; a fault that is still there on the
    // next report is real.
    onDelaySeconds: 60,
    offDelaySeconds: 300,
    message: 'fault code {value}',
    source: "the controller's own fault code (0: no fault)",
  },
  {
    id: 'day_burner',
    severity: 'minor',
    description: 'Lamp on in daylight (day burner): a stuck photocell or relay wastes energy',
    condition: {
      all: [
        { field: 'lamp_on', op: '==', value: true },
        { field: 'ambient_lux', op: '>', param: 'daylightLux' },
      ],
    },
    valueField: 'ambient_lux',
    params: { daylightLux: 1000 },
    deadband: 500,
    // Dusk and dawn pass the threshold for a few minutes with a lamp legitimately on.
    onDelaySeconds: 900,
    offDelaySeconds: 300,
    message: 'lamp on at {value} {unit} of daylight (above {daylightLux} {unit})',
    source: 'ANSI C136.10 photocontrol levels: on below ~22 lux, off above ~1.5-2x; daylight >1000 lux',
  },
  {
    id: 'dark_lamp',
    severity: 'major',
    description: 'Lamp off at night while it should be on (no command switched it off)',
    condition: {
      all: [
        { field: 'lamp_on', op: '==', value: false },
        { field: 'ambient_lux', op: '<', param: 'nightLux' },
        // Last, so the desired state is looked up only when the reading already says dark.
        { field: 'lamp_on', source: 'desired', op: '!=', value: false },
        { field: 'dim_percent', source: 'desired', op: '!=', value: 0 },
      ],
    },
    valueField: 'ambient_lux',
    params: { nightLux: 10 },
    deadband: 5,
    onDelaySeconds: 900,
    offDelaySeconds: 300,
    message: 'lamp off at {value} {unit} (below {nightLux} {unit}) and not switched off by a command',
    source: 'ANSI C136.10 photocontrol turn-on level (10-22 lux); night sky glow of a city < 10 lux',
  },
  offline(),
  counterBackwards('burn hours'),
  counterJump('burn hours'),
]);
