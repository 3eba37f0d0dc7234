-- Firmware artifacts, campaigns and street lighting (issue 11): SQLite migrations 8 and 9,
-- plus the image bytes, which in a cluster live here so that any node serves any download.
CREATE TABLE firmware_artifacts (
  id TEXT PRIMARY KEY,
  model TEXT NOT NULL,
  version TEXT NOT NULL,
  from_versions TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size BIGINT NOT NULL,
  name TEXT,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  UNIQUE (model, version)
);
-- An image in pieces of up to 1 MiB, each at its byte offset: a range request reads only the
-- pieces it covers. No foreign key: the bytes are committed before the metadata row.
CREATE TABLE firmware_chunks (
  artifact_id TEXT NOT NULL,
  start_byte BIGINT NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (artifact_id, start_byte)
);
-- Uncompressed out-of-line storage: substring() on it reads only the pages it needs.
ALTER TABLE firmware_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE TABLE campaigns (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  artifact_id TEXT NOT NULL,
  selector TEXT NOT NULL,
  groups TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  success_threshold DOUBLE PRECISION NOT NULL,
  error_threshold DOUBLE PRECISION NOT NULL,
  concurrency INTEGER NOT NULL,
  timeout_seconds INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX campaigns_status ON campaigns (status);
CREATE TABLE campaign_targets (
  campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  device_id TEXT NOT NULL,
  group_no INTEGER NOT NULL,
  from_version TEXT NOT NULL,
  status TEXT NOT NULL,
  phase TEXT,
  progress DOUBLE PRECISION,
  command_id TEXT,
  token_hash TEXT,
  error TEXT,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (campaign_id, device_id)
);
CREATE INDEX campaign_targets_command ON campaign_targets (command_id);
CREATE UNIQUE INDEX campaign_targets_token ON campaign_targets (token_hash) WHERE token_hash IS NOT NULL;
CREATE INDEX campaign_targets_busy ON campaign_targets (status) WHERE status IN ('pending', 'in_progress');

CREATE TABLE lighting_programs (
  id TEXT PRIMARY KEY,
  body TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL
);
CREATE TABLE lighting_calendar (
  version INTEGER PRIMARY KEY,
  body TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL
);
CREATE TABLE lighting_executed (
  night TEXT NOT NULL,
  unit TEXT NOT NULL,
  step INTEGER NOT NULL,
  at BIGINT NOT NULL,
  executed_at BIGINT NOT NULL,
  PRIMARY KEY (night, unit)
);
CREATE TABLE lighting_overrides (
  id TEXT PRIMARY KEY,
  body TEXT NOT NULL,
  level INTEGER NOT NULL,
  reason TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  until BIGINT NOT NULL,
  mode TEXT NOT NULL,
  ended_at BIGINT,
  ended_by TEXT
);
CREATE INDEX lighting_overrides_active ON lighting_overrides (created_at) WHERE ended_at IS NULL;
