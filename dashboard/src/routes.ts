import type { Route } from './router.ts';
import { AlarmsView } from './views/alarms.tsx';
import { BulkView } from './views/bulk.tsx';
import { DeviceView } from './views/device.tsx';
import { LightingView } from './views/lighting.tsx';
import { OverviewView } from './views/overview.tsx';
import { QuarantineView } from './views/quarantine.tsx';

/** Every view of the dashboard, one line each (the navigation bar follows this order). */
export const ROUTES: Route[] = [
  { path: '/', view: OverviewView, nav: 'overview' },
  { path: '/alarms', view: AlarmsView, nav: 'alarms' },
  { path: '/quarantine', view: QuarantineView, nav: 'quarantine' },
  { path: '/devices/:id', view: DeviceView },
  { path: '/bulk', view: BulkView, nav: 'bulk', least: 'operator' },
  { path: '/lighting', view: LightingView, nav: 'lighting' },
];
