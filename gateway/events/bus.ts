import type { Family } from '../../firmware-specs/families.ts';
import type { AlarmTransition, AlarmView, Severity } from '../alarms/types.ts';
import type { CampaignEvent } from '../campaigns/campaign-event.ts';

/** What the operations centre watches live (issue 9): GET /api/events and webhooks carry these. */
export type GatewayEvent =
  | { type: 'alarm'; at: number; transition: AlarmTransition; actor: string; alarm: AlarmView }
  | { type: 'presence'; at: number; deviceId: string; family: Family; district: string; online: boolean }
  | {
      type: 'command';
      at: number;
      commandId: string;
      deviceId: string;
      name: string;
      status: string;
      bulkId: string | null;
    }
  | {
      type: 'summary';
      at: number;
      readingsPerSecond: number;
      devices: Record<string, { online: number; offline: number; disabled: number }>;
      openAlarms: Record<Severity, number>;
    }
  | CampaignEvent;

export type EventListener = (event: GatewayEvent) => void;

/**
 * An in-process publish/subscribe of gateway events. Publishing never throws: a listener that
 * throws is logged and the others still hear the event.
 */
export interface EventBus {
  publish(event: GatewayEvent): void;
  subscribe(listener: EventListener): () => void;
}

export function createEventBus(onListenerError: (err: unknown, event: GatewayEvent) => void): EventBus {
  const listeners = new Set<EventListener>();
  return {
    publish(event) {
      for (const l of listeners) {
        try {
          l(event);
        } catch (err) {
          onListenerError(err, event);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
