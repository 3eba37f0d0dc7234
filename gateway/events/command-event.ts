import type { Command } from '../../device-registry/commands.ts';
import type { GatewayEvent } from './bus.ts';

/** A command's status change as the events stream and webhooks carry it. */
export function commandEvent(c: Command): Extract<GatewayEvent, { type: 'command' }> {
  return {
    type: 'command',
    at: c.updatedAt,
    commandId: c.id,
    deviceId: c.deviceId,
    name: c.name,
    status: c.status,
    bulkId: c.bulkId,
  };
}
