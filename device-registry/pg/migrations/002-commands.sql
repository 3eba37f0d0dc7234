-- Commands, their history, desired state and bulk roll-outs (SQLite migrations 2 and 3 of
-- device-registry/migrations.ts). No foreign key to devices: each area's tables stand alone.
CREATE TABLE commands (
  id TEXT PRIMARY KEY,
  seq BIGSERIAL NOT NULL,
  device_id TEXT NOT NULL,
  name TEXT NOT NULL,
  mode TEXT NOT NULL,
  params TEXT NOT NULL,
  status TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  idempotency_key TEXT,
  bulk_id TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  timeout_ms BIGINT NOT NULL,
  sent_at BIGINT,
  result TEXT,
  error TEXT
);
-- One command per idempotency key and device, whichever node accepted it.
CREATE UNIQUE INDEX commands_idempotency ON commands (device_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX commands_device ON commands (device_id, seq);
CREATE INDEX commands_open ON commands (status, seq) WHERE status IN ('queued', 'sent', 'delivered');
CREATE INDEX commands_bulk ON commands (bulk_id, seq) WHERE bulk_id IS NOT NULL;

CREATE TABLE command_history (
  id BIGSERIAL PRIMARY KEY,
  command_id TEXT NOT NULL REFERENCES commands (id),
  at BIGINT NOT NULL,
  status TEXT NOT NULL,
  actor TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX command_history_command ON command_history (command_id, id);

CREATE TABLE desired_state (
  device_id TEXT NOT NULL,
  command TEXT NOT NULL,
  params TEXT NOT NULL,
  state TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (device_id, command)
);

CREATE TABLE bulk_commands (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  params TEXT NOT NULL,
  selector TEXT NOT NULL,
  rate_per_second INTEGER NOT NULL,
  requested_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  device_ids TEXT NOT NULL,
  skipped TEXT NOT NULL,
  options TEXT NOT NULL DEFAULT '{}',
  finished_at BIGINT,
  -- The node running the roll-out: only it resumes it after a restart.
  owner TEXT NOT NULL
);
CREATE INDEX bulk_commands_unfinished ON bulk_commands (owner) WHERE finished_at IS NULL;
