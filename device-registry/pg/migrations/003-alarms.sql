-- Alarms, their history and rule overrides (SQLite migration 5), webhooks and their deliveries
-- (SQLite migration 6). No foreign key to devices: that table belongs to another area.

-- At most one open (not closed) alarm per device and rule: two nodes raising the same alarm at
-- once (a device that moved) meet here, and the second becomes a repeat of the first.
CREATE TABLE alarms (
  id TEXT PRIMARY KEY,
  device_id TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  family TEXT NOT NULL,
  district TEXT NOT NULL,
  ward TEXT NOT NULL,
  severity TEXT NOT NULL,
  state TEXT NOT NULL,
  message TEXT NOT NULL,
  value TEXT,
  occurrences INTEGER NOT NULL,
  raised_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  acknowledged_at BIGINT,
  acknowledged_by TEXT,
  cleared_at BIGINT,
  shelved_until BIGINT,
  shelved_by TEXT,
  shelve_reason TEXT
);
CREATE UNIQUE INDEX alarms_open ON alarms (device_id, rule_id) WHERE state <> 'closed';
CREATE INDEX alarms_state ON alarms (state, severity);
CREATE INDEX alarms_device ON alarms (device_id, raised_at);
CREATE INDEX alarms_shelved ON alarms (shelved_until) WHERE shelved_until IS NOT NULL;

CREATE TABLE alarm_history (
  id BIGSERIAL PRIMARY KEY,
  alarm_id TEXT NOT NULL REFERENCES alarms (id),
  at BIGINT NOT NULL,
  transition TEXT NOT NULL,
  state TEXT NOT NULL,
  actor TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX alarm_history_alarm ON alarm_history (alarm_id, id);
CREATE INDEX alarm_history_at ON alarm_history (at, transition);

CREATE TABLE alarm_rule_overrides (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  body TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (scope, key, rule_id)
);

CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  secret TEXT NOT NULL,
  types TEXT NOT NULL,
  severities TEXT,
  description TEXT,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  dropped INTEGER NOT NULL DEFAULT 0
);

-- A pending delivery is due at next_attempt_at; a node attempting it moves next_attempt_at past
-- the attempt's timeout (its lease), so no other node takes it meanwhile.
CREATE TABLE webhook_deliveries (
  id BIGSERIAL PRIMARY KEY,
  webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT,
  last_status_code INTEGER,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, status, id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
