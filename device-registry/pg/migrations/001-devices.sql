-- Devices, API tokens and the audit trail (issue 11): the SQLite migrations 1..9 in one, plus
-- what the cluster tracks: which node holds a device's connection, and when its fleet fields
-- (changed_at) or its presence (presence_at) last changed, so nodes that missed a
-- device.changed message catch up by polling. Both are PostgreSQL's clock, epoch ms.
CREATE TABLE devices (
  id TEXT PRIMARY KEY,
  model TEXT NOT NULL,
  family TEXT NOT NULL,
  firmware TEXT NOT NULL,
  district TEXT NOT NULL,
  ward TEXT NOT NULL,
  lat DOUBLE PRECISION,
  lon DOUBLE PRECISION,
  tags TEXT NOT NULL DEFAULT '[]',
  enabled INTEGER NOT NULL DEFAULT 1,
  secret_hash TEXT,
  modbus TEXT,
  created_at BIGINT NOT NULL,
  online INTEGER NOT NULL DEFAULT 0,
  last_seen_at BIGINT,
  last_reading TEXT,
  last_reading_at BIGINT,
  reported_state TEXT,
  reported_at BIGINT,
  previous_secret_hash TEXT,
  previous_secret_until BIGINT,
  decommissioned_at BIGINT,
  online_node TEXT,
  changed_at BIGINT NOT NULL DEFAULT 0,
  presence_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX devices_family ON devices (family);
CREATE INDEX devices_district ON devices (district, ward);
CREATE INDEX devices_changed ON devices (changed_at);
CREATE INDEX devices_presence ON devices (presence_at);
CREATE INDEX devices_online_node ON devices (online_node) WHERE online = 1;

CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  revoked_at BIGINT,
  bootstrap INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE audit (
  id BIGSERIAL PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX audit_subject ON audit (subject, at);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_actor ON audit (actor, at);
CREATE INDEX audit_action ON audit (action, at);
