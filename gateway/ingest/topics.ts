/** The per-device topic tree of docs/design.md, "MQTT wire contract". */
export const TOPIC_KINDS = {
  telemetry: 'telemetry',
  state: 'state',
  reply: 'reply',
  status: 'status',
  command: 'command',
} as const;
export type TopicKind = keyof typeof TOPIC_KINDS;

export interface ParsedTopic {
  deviceId: string;
  kind: TopicKind;
  commandId?: string;
}

export function parseDeviceTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts[0] !== 'devices' || !parts[1]) return null;
  const deviceId = parts[1];
  if (parts.length === 3 && (parts[2] === 'telemetry' || parts[2] === 'state' || parts[2] === 'status')) {
    return { deviceId, kind: parts[2] };
  }
  if (parts.length === 4 && parts[2] === 'commands' && parts[3])
    return { deviceId, kind: 'command', commandId: parts[3] };
  if (parts.length === 5 && parts[2] === 'commands' && parts[3] && parts[4] === 'reply') {
    return { deviceId, kind: 'reply', commandId: parts[3] };
  }
  return null;
}

export const topics = {
  telemetry: (id: string) => `devices/${id}/telemetry`,
  state: (id: string) => `devices/${id}/state`,
  status: (id: string) => `devices/${id}/status`,
  command: (id: string, commandId: string) => `devices/${id}/commands/${commandId}`,
  reply: (id: string, commandId: string) => `devices/${id}/commands/${commandId}/reply`,
  commandsFilter: (id: string) => `devices/${id}/commands/#`,
};
