/** Shapes of the gateway's answers the dashboard reads (see the OpenAPI document at /api/openapi.json). */
export const SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const;
export type Severity = (typeof SEVERITIES)[number];
export type DeviceStatus = 'online' | 'offline' | 'disabled';

export interface AlarmView {
  id: string;
  deviceId: string;
  family: string;
  district: string;
  ward: string;
  ruleId: string;
  severity: Severity;
  state: 'active_unacknowledged' | 'active_acknowledged' | 'cleared_unacknowledged' | 'closed';
  message: string;
  value: number | boolean | string | null;
  occurrences: number;
  raisedAt: string;
  updatedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  clearedAt: string | null;
  shelvedUntil: string | null;
  shelvedBy: string | null;
  shelveReason: string | null;
}

export interface Summary {
  type: 'summary';
  at: number;
  readingsPerSecond: number;
  devices: Record<string, { online: number; offline: number; disabled: number }>;
  openAlarms: Record<Severity, number>;
}

export type GatewayEvent =
  | { type: 'alarm'; at: number; transition: string; actor: string; alarm: AlarmView }
  | { type: 'presence'; at: number; deviceId: string; family: string; district: string; online: boolean }
  | {
      type: 'command';
      at: number;
      commandId: string;
      deviceId: string;
      name: string;
      status: string;
      bulkId: string | null;
    }
  | Summary;

export interface MapAnswer {
  families: string[];
  statuses: DeviceStatus[];
  severities: Severity[];
  districts: Array<{ name: string; lat: number; lon: number }>;
  devices: Array<[string, number, number, number, number, number, number]>;
  tileUrl: string | null;
}
