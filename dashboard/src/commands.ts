import { useEffect, useRef } from 'preact/hooks';
import { live } from './live.ts';
import type { GatewayEvent } from './types.ts';

/** A command's lifecycle (docs/design.md, "Commands"): each state has a glyph besides its colour. */
export const COMMAND_STATES = [
  'queued',
  'sent',
  'delivered',
  'succeeded',
  'failed',
  'timed_out',
  'expired',
  'cancelled',
] as const;
export type CommandState = (typeof COMMAND_STATES)[number];
export const FINAL_STATES = new Set<string>(['succeeded', 'failed', 'timed_out', 'expired', 'cancelled']);
export const STATE_GLYPH: Record<CommandState, string> = {
  queued: '◌',
  sent: '➚',
  delivered: '✓',
  succeeded: '✔',
  failed: '✕',
  timed_out: '◔',
  expired: '⊖',
  cancelled: '⊘',
};

export interface CommandView {
  id: string;
  deviceId: string;
  name: string;
  mode: string;
  params: Record<string, unknown>;
  status: CommandState;
  requestedBy: string;
  bulkId: string | null;
  createdAt: string;
  updatedAt: string;
  result: Record<string, unknown> | null;
  error: string | null;
  history?: Array<{ at: string; status: CommandState; actor: string; detail: string | null }>;
}

export interface CommandField {
  name: string;
  type: 'integer' | 'number' | 'boolean' | 'string' | 'enum';
  required: boolean;
  minimum: number | null;
  maximum: number | null;
  enum: Array<string | number | boolean> | null;
  unit: string | null;
  description: string | null;
}

export interface ModelCommand {
  name: string;
  mode: string;
  description: string | null;
  example: Record<string, unknown>;
  fields: CommandField[];
  guards: {
    minIntervalSeconds: number | null;
    needsConfirm: boolean;
    confirmWhen: Record<string, string | number | boolean> | null;
  };
}

export interface ModelView {
  id: string;
  family: string;
  vendor: string;
  model: string;
  description: string | null;
  reportIntervalSeconds: number | null;
  /** Unit (and declared decimals) of each canonical field and setting of the family. */
  fields: Record<string, { unit: string; decimals?: number }>;
  commands: ModelCommand[];
}

/** A field's unit as its model declares it; '' while the model is not loaded or for a unitless field. */
export const unitIn = (model: ModelView | null, field: string): string => model?.fields[field]?.unit ?? '';

/** The gateway's confirm guard, as `GET /api/models/{id}` states it (firmware-specs needsConfirm). */
export function needsConfirm(cmd: ModelCommand, params: Record<string, unknown>): boolean {
  const when = cmd.guards.confirmWhen;
  return when !== null && Object.entries(when).every(([k, v]) => params[k] === v);
}

type CommandEvent = Extract<GatewayEvent, { type: 'command' }>;

/**
 * Calls `onEvents` with the command events the live store applied since the last call, once per
 * frame in which some arrived (the store batches them per animation frame).
 */
export function useCommandEvents(onEvents: (events: CommandEvent[]) => void): void {
  const handler = useRef(onEvents);
  handler.current = onEvents;
  useEffect(() => {
    let seen: CommandEvent | undefined = live.commands[live.commands.length - 1];
    return live.version.subscribe(() => {
      const list = live.commands;
      let i = list.length;
      // Back to the last one seen (the store drops its oldest half past 2,000: then all are new).
      while (i > 0 && list[i - 1] !== seen) i--;
      const fresh = i === 0 ? list.slice() : list.slice(i);
      seen = list[list.length - 1];
      if (fresh.length) handler.current(fresh);
    });
  }, []);
}
