import { randomBytes } from 'node:crypto';

/** Command lifecycle of docs/design.md, "Commands". */
export const COMMAND_STATUS = {
  queued: 'queued',
  sent: 'sent',
  delivered: 'delivered',
  succeeded: 'succeeded',
  failed: 'failed',
  timed_out: 'timed_out',
  expired: 'expired',
  cancelled: 'cancelled',
} as const;
export type CommandStatus = keyof typeof COMMAND_STATUS;
export const FINAL_STATUSES: ReadonlySet<CommandStatus> = new Set([
  'succeeded',
  'failed',
  'timed_out',
  'expired',
  'cancelled',
]);
export const OPEN_STATUSES: readonly CommandStatus[] = ['queued', 'sent', 'delivered'];

/** Which transitions the lifecycle allows; anything else is ignored (e.g. a reply after a timeout). */
const NEXT: Record<CommandStatus, readonly CommandStatus[]> = {
  queued: ['sent', 'expired', 'cancelled'],
  sent: ['delivered', 'succeeded', 'failed', 'timed_out'],
  delivered: ['succeeded', 'failed', 'timed_out'],
  succeeded: [],
  failed: [],
  timed_out: [],
  expired: [],
  cancelled: [],
};

/** The statuses a command may be in to move to `to`: the condition of every status update. */
export const movableFrom = (to: CommandStatus): CommandStatus[] =>
  (Object.keys(NEXT) as CommandStatus[]).filter((s) => NEXT[s].includes(to));

export interface Command {
  id: string;
  deviceId: string;
  name: string;
  mode: 'state' | 'action';
  params: Record<string, unknown>;
  status: CommandStatus;
  requestedBy: string;
  idempotencyKey: string | null;
  bulkId: string | null;
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
  timeoutMs: number;
  sentAt: number | null;
  result: Record<string, unknown> | null;
  error: string | null;
}

export interface HistoryEntry {
  at: number;
  status: CommandStatus;
  actor: string;
  detail: string | null;
}

export interface BulkRecord {
  id: string;
  name: string;
  params: Record<string, unknown>;
  selector: Record<string, unknown>;
  ratePerSecond: number;
  requestedBy: string;
  createdAt: number;
  deviceIds: string[];
  skipped: Array<{ deviceId: string; reason: string }>;
  options: { ttlSeconds?: number; timeoutSeconds?: number; confirm?: boolean };
  /** The node that runs it (NODE_ID; 'local' in single-process mode): only it resumes it. */
  owner: string;
  finishedAt: number | null;
}

export interface CommandRow {
  id: string;
  device_id: string;
  name: string;
  mode: 'state' | 'action';
  params: string;
  status: CommandStatus;
  requested_by: string;
  idempotency_key: string | null;
  bulk_id: string | null;
  created_at: number;
  updated_at: number;
  expires_at: number;
  timeout_ms: number;
  sent_at: number | null;
  result: string | null;
  error: string | null;
}

/**
 * A stored JSON object read back. Rows written by older versions may hold anything (a reply's
 * `"result":"x"` was stored as it came): such a value is shown as its text, cut short, so the
 * command stays readable.
 */
function storedObject(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through: kept as text
  }
  return { unreadable_stored_value: text.length > 500 ? `${text.slice(0, 500)}…` : text };
}

export const fromRow = (r: CommandRow): Command => ({
  id: r.id,
  deviceId: r.device_id,
  name: r.name,
  mode: r.mode,
  params: storedObject(r.params),
  status: r.status,
  requestedBy: r.requested_by,
  idempotencyKey: r.idempotency_key,
  bulkId: r.bulk_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  expiresAt: r.expires_at,
  timeoutMs: r.timeout_ms,
  sentAt: r.sent_at,
  result: r.result === null ? null : storedObject(r.result),
  error: r.error,
});

/** History entries kept per command: its lifecycle (at most 5) and a few late replies. */
export const MAX_HISTORY = 20;

export const newCommandId = () => `cmd_${Date.now().toString(36)}${randomBytes(5).toString('hex')}`;

export type NewCommand = Omit<Command, 'status' | 'updatedAt' | 'sentAt' | 'result' | 'error'>;

export interface DesiredEntry {
  command: string;
  params: Record<string, unknown>;
  state: Record<string, unknown>;
  version: number;
  updatedAt: number;
}

export interface TransitionExtra {
  detail?: string;
  result?: Record<string, unknown>;
  error?: string;
}

/** What `create` checks and does in the same transaction as the insert (atomic on every node). */
export interface CreateOptions {
  /** The guards: called with when a command of this name last went to the device; throws to refuse. */
  guard?: (lastRequestedAt: number | null) => void;
  /** A state command: queued older ones of the same name are cancelled and the desired state set. */
  state?: { actor: string; desired: Record<string, unknown> };
}

export interface CreateResult {
  command: Command;
  /** false: a command with the same idempotency key existed, and is returned instead. */
  created: boolean;
  /** Queued commands of the same name this state command cancelled. */
  superseded: Command[];
  /** The device's desired entry for this command, as stored. */
  desired: DesiredEntry | null;
}

export type BulkCommand = Pick<Command, 'id' | 'deviceId' | 'status' | 'error' | 'updatedAt'>;

export const SUPERSEDED_DETAIL = 'superseded by a newer command';

/**
 * Commands, their history, desired state and bulk roll-outs, persisted in the registry: SQLite
 * in single-process mode (device-registry/sqlite-commands.ts), PostgreSQL in a cluster
 * (device-registry/pg/pg-commands.ts). Every status change is conditional on the status it
 * moves from, so that two nodes never both send or both finalize a command.
 */
export interface CommandStore {
  /**
   * Stores a new `queued` command unless one with its idempotency key exists for the device;
   * the guards, the superseding of older state commands and the desired state happen in the
   * same transaction, serialized per device.
   */
  create(c: NewCommand, opts?: CreateOptions): Promise<CreateResult>;
  get(id: string): Promise<Command | null>;
  /** Moves a command on if the lifecycle allows it; the new command, or null if it did not move. */
  transition(
    id: string,
    to: CommandStatus,
    at: number,
    actor: string,
    extra?: TransitionExtra,
  ): Promise<Command | null>;
  /** Notes something that does not change the status (a late reply); at most MAX_HISTORY entries. */
  note(id: string, at: number, actor: string, detail: string): Promise<void>;
  history(id: string): Promise<HistoryEntry[]>;
  /** One page of a device's commands, newest first; `before` is the last command id of the previous page. */
  page(
    deviceId: string,
    opts: { status?: CommandStatus; limit: number; before?: string },
  ): Promise<{ commands: Command[]; next: string | null }>;
  /** With `status`: oldest first (the sending order); without: newest first. */
  forDevice(deviceId: string, opts?: { status?: CommandStatus[]; limit?: number }): Promise<Command[]>;
  open(): Promise<Command[]>;
  /** Open commands past their deadline: `queued` past `expiresAt`, `sent`/`delivered` past `sentAt + timeoutMs`. */
  overdue(now: number, limit: number): Promise<Command[]>;
  /** Devices with commands queued since before `before` (a missed `commands.queued` is caught up). */
  waitingDevices(before: number, limit: number): Promise<string[]>;
  byIdempotencyKey(deviceId: string, key: string): Promise<Command | null>;
  /** When a command of this name last went, or is about to go, to the device (the rate guard). */
  lastRequestedAt(deviceId: string, name: string): Promise<number | null>;
  desired(deviceId: string): Promise<DesiredEntry[]>;
  /** Every device's desired state, to fill a node's cache at start. */
  allDesired(): Promise<Map<string, DesiredEntry[]>>;
  createBulk(b: BulkRecord): Promise<void>;
  bulk(id: string): Promise<BulkRecord | null>;
  /** This node's roll-outs whose every device has not yet been given its command. */
  unfinishedBulks(owner: string): Promise<BulkRecord[]>;
  finishBulk(id: string, at: number, refused: Array<{ deviceId: string; reason: string }>): Promise<void>;
  bulkCommands(bulkId: string): Promise<BulkCommand[]>;
  /**
   * Synchronous reads, where the database allows them (SQLite): a cache miss on the hot path is
   * filled at once instead of in the background.
   */
  readonly readNow?: {
    forDevice(deviceId: string, limit: number): Command[];
    desired(deviceId: string): DesiredEntry[];
  };
}

export interface BulkRow {
  id: string;
  name: string;
  params: string;
  selector: string;
  rate_per_second: number;
  requested_by: string;
  created_at: number;
  device_ids: string;
  skipped: string;
  options: string;
  owner?: string;
  finished_at: number | null;
}

export const bulkFromRow = (r: BulkRow): BulkRecord => ({
  id: r.id,
  name: r.name,
  params: JSON.parse(r.params),
  selector: JSON.parse(r.selector),
  ratePerSecond: r.rate_per_second,
  requestedBy: r.requested_by,
  createdAt: r.created_at,
  deviceIds: JSON.parse(r.device_ids),
  skipped: JSON.parse(r.skipped),
  options: JSON.parse(r.options),
  owner: r.owner ?? 'local',
  finishedAt: r.finished_at,
});

export interface DesiredRow {
  device_id: string;
  command: string;
  params: string;
  state: string;
  version: number;
  updated_at: number;
}

export const desiredFromRow = (r: DesiredRow): DesiredEntry => ({
  command: r.command,
  params: JSON.parse(r.params),
  state: JSON.parse(r.state),
  version: r.version,
  updatedAt: r.updated_at,
});
/** Desired-state rows (ordered by device) grouped per device, as both stores load them at start. */
export function groupDesired(rows: readonly DesiredRow[]): Map<string, DesiredEntry[]> {
  const all = new Map<string, DesiredEntry[]>();
  for (const r of rows) {
    const list = all.get(r.device_id) ?? [];
    list.push(desiredFromRow(r));
    all.set(r.device_id, list);
  }
  return all;
}
