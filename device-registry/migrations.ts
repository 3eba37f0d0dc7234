/** Numbered migrations; a migration once released is never edited, only followed by another. */
export const migrations: ReadonlyArray<readonly [number, string]> = [
  [
    1,
    `
    CREATE TABLE devices (
      id TEXT PRIMARY KEY,
      model TEXT NOT NULL,
      family TEXT NOT NULL,
      firmware TEXT NOT NULL,
      district TEXT NOT NULL,
      ward TEXT NOT NULL,
      lat REAL, lon REAL,
      tags TEXT NOT NULL DEFAULT '[]',
      enabled INTEGER NOT NULL DEFAULT 1,
      secret_hash TEXT,
      modbus TEXT,
      created_at INTEGER NOT NULL,
      online INTEGER NOT NULL DEFAULT 0,
      last_seen_at INTEGER,
      last_reading TEXT,
      last_reading_at INTEGER,
      reported_state TEXT,
      reported_at INTEGER
    );
    CREATE INDEX devices_family ON devices (family);
    CREATE INDEX devices_district ON devices (district, ward);
    CREATE TABLE tokens (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      role TEXT NOT NULL,
      hash TEXT NOT NULL UNIQUE,
      created_at INTEGER NOT NULL,
      created_by TEXT NOT NULL,
      revoked_at INTEGER
    );
    CREATE TABLE audit (
      id INTEGER PRIMARY KEY,
      at INTEGER NOT NULL,
      actor TEXT NOT NULL,
      action TEXT NOT NULL,
      subject TEXT NOT NULL,
      detail TEXT
    );
    CREATE INDEX audit_subject ON audit (subject, at);
    `,
  ],
  [
    2,
    `
    CREATE TABLE commands (
      id TEXT PRIMARY KEY,
      seq INTEGER NOT NULL,
      device_id TEXT NOT NULL REFERENCES devices (id),
      name TEXT NOT NULL,
      mode TEXT NOT NULL,
      params TEXT NOT NULL,
      status TEXT NOT NULL,
      requested_by TEXT NOT NULL,
      idempotency_key TEXT,
      bulk_id TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      timeout_ms INTEGER NOT NULL,
      sent_at INTEGER,
      result TEXT,
      error TEXT
    );
    CREATE UNIQUE INDEX commands_idempotency ON commands (device_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
    CREATE INDEX commands_device ON commands (device_id, seq);
    CREATE INDEX commands_open ON commands (status) WHERE status IN ('queued', 'sent', 'delivered');
    CREATE INDEX commands_bulk ON commands (bulk_id) WHERE bulk_id IS NOT NULL;
    CREATE TABLE command_history (
      id INTEGER PRIMARY KEY,
      command_id TEXT NOT NULL REFERENCES commands (id),
      at INTEGER NOT NULL,
      status TEXT NOT NULL,
      actor TEXT NOT NULL,
      detail TEXT
    );
    CREATE INDEX command_history_command ON command_history (command_id, id);
    CREATE TABLE desired_state (
      device_id TEXT NOT NULL REFERENCES devices (id),
      command TEXT NOT NULL,
      params TEXT NOT NULL,
      state TEXT NOT NULL,
      version INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (device_id, command)
    );
    CREATE TABLE bulk_commands (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      params TEXT NOT NULL,
      selector TEXT NOT NULL,
      rate_per_second INTEGER NOT NULL,
      requested_by TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      device_ids TEXT NOT NULL,
      skipped TEXT NOT NULL
    );
    `,
  ],
  [
    3,
    `
    -- The roll-out options (ttl, timeout, confirm), so an interrupted roll-out resumes as asked.
    ALTER TABLE bulk_commands ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE bulk_commands ADD COLUMN finished_at INTEGER;
    `,
  ],
  [
    4,
    `
    -- The bootstrap admin token (CITYGATE_ADMIN_TOKEN or the generated one) apart from tokens made
    -- through the API, so a changed CITYGATE_ADMIN_TOKEN retires the previous one. Until now only
    -- the bootstrap path created tokens as 'system'.
    ALTER TABLE tokens ADD COLUMN bootstrap INTEGER NOT NULL DEFAULT 0;
    UPDATE tokens SET bootstrap = 1 WHERE created_by = 'system';
    `,
  ],
  [
    5,
    `
    -- Alarms (issue 9): at most one open (not closed) alarm per device and rule.
    CREATE TABLE alarms (
      id TEXT PRIMARY KEY,
      device_id TEXT NOT NULL REFERENCES devices (id),
      rule_id TEXT NOT NULL,
      family TEXT NOT NULL,
      district TEXT NOT NULL,
      ward TEXT NOT NULL,
      severity TEXT NOT NULL,
      state TEXT NOT NULL,
      message TEXT NOT NULL,
      value TEXT,
      occurrences INTEGER NOT NULL,
      raised_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      acknowledged_at INTEGER,
      acknowledged_by TEXT,
      cleared_at INTEGER,
      shelved_until INTEGER,
      shelved_by TEXT,
      shelve_reason TEXT
    );
    CREATE UNIQUE INDEX alarms_open ON alarms (device_id, rule_id) WHERE state <> 'closed';
    CREATE INDEX alarms_state ON alarms (state, severity);
    CREATE INDEX alarms_device ON alarms (device_id, raised_at);
    CREATE INDEX alarms_shelved ON alarms (shelved_until) WHERE shelved_until IS NOT NULL;
    CREATE TABLE alarm_history (
      id INTEGER PRIMARY KEY,
      alarm_id TEXT NOT NULL REFERENCES alarms (id),
      at INTEGER NOT NULL,
      transition TEXT NOT NULL,
      state TEXT NOT NULL,
      actor TEXT NOT NULL,
      detail TEXT
    );
    CREATE INDEX alarm_history_alarm ON alarm_history (alarm_id, id);
    CREATE INDEX alarm_history_at ON alarm_history (at, transition);
    -- Rule overrides per model, district or device; the body is the engine's override, as JSON.
    CREATE TABLE alarm_rule_overrides (
      scope TEXT NOT NULL,
      key TEXT NOT NULL,
      rule_id TEXT NOT NULL,
      body TEXT NOT NULL,
      updated_at INTEGER NOT NULL,
      updated_by TEXT NOT NULL,
      PRIMARY KEY (scope, key, rule_id)
    );
    `,
  ],
  [
    6,
    `
    -- Webhooks (issue 9): the signing secret is kept as is (an HMAC key cannot be a hash), and
    -- deliveries are persisted so retries survive a restart. Migration 5 belongs to the alarms.
    CREATE TABLE webhooks (
      id TEXT PRIMARY KEY,
      url TEXT NOT NULL,
      secret TEXT NOT NULL,
      types TEXT NOT NULL,
      severities TEXT,
      description TEXT,
      created_at INTEGER NOT NULL,
      created_by TEXT NOT NULL,
      dropped INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE webhook_deliveries (
      id INTEGER PRIMARY KEY,
      webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
      event_id TEXT NOT NULL,
      event_type TEXT NOT NULL,
      body TEXT NOT NULL,
      status TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER,
      last_status_code INTEGER,
      last_error TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    );
    CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, status, id);
    CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
    `,
  ],
  [
    7,
    `
    -- Fleet lifecycle (issue 12): a rotated secret's previous hash works until its grace ends; a
    -- decommissioned device keeps its row (history, commands and audit refer to it) and its id.
    ALTER TABLE devices ADD COLUMN previous_secret_hash TEXT;
    ALTER TABLE devices ADD COLUMN previous_secret_until INTEGER;
    ALTER TABLE devices ADD COLUMN decommissioned_at INTEGER;
    CREATE INDEX audit_at ON audit (at);
    CREATE INDEX audit_actor ON audit (actor, at);
    CREATE INDEX audit_action ON audit (action, at);
    `,
  ],
  [
    8,
    `
    -- Firmware campaigns (issue 12, part 3). The image itself is a file in the data directory,
    -- named by the artifact id (never by anything a client sent).
    CREATE TABLE firmware_artifacts (
      id TEXT PRIMARY KEY,
      model TEXT NOT NULL,
      version TEXT NOT NULL,
      from_versions TEXT NOT NULL,
      sha256 TEXT NOT NULL,
      size INTEGER NOT NULL,
      name TEXT,
      created_at INTEGER NOT NULL,
      created_by TEXT NOT NULL,
      UNIQUE (model, version)
    );
    CREATE TABLE campaigns (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      artifact_id TEXT NOT NULL,
      selector TEXT NOT NULL,
      groups TEXT NOT NULL,
      status TEXT NOT NULL,
      reason TEXT,
      success_threshold REAL NOT NULL,
      error_threshold REAL NOT NULL,
      concurrency INTEGER NOT NULL,
      timeout_seconds INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      created_by TEXT NOT NULL,
      updated_at INTEGER NOT NULL
    );
    CREATE TABLE campaign_targets (
      campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
      device_id TEXT NOT NULL,
      group_no INTEGER NOT NULL,
      from_version TEXT NOT NULL,
      status TEXT NOT NULL,
      phase TEXT,
      progress REAL,
      command_id TEXT,
      token_hash TEXT,
      error TEXT,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (campaign_id, device_id)
    );
    CREATE INDEX campaign_targets_command ON campaign_targets (command_id);
    CREATE UNIQUE INDEX campaign_targets_token ON campaign_targets (token_hash) WHERE token_hash IS NOT NULL;
    `,
  ],
  [
    9,
    `
    -- Street lighting (issue 13): programs and calendar versions as validated JSON documents,
    -- the last step executed per night and unit (group, program, position cell), and overrides.
    CREATE TABLE lighting_programs (
      id TEXT PRIMARY KEY,
      body TEXT NOT NULL,
      updated_at INTEGER NOT NULL,
      updated_by TEXT NOT NULL
    );
    CREATE TABLE lighting_calendar (
      version INTEGER PRIMARY KEY,
      body TEXT NOT NULL,
      updated_at INTEGER NOT NULL,
      updated_by TEXT NOT NULL
    );
    CREATE TABLE lighting_executed (
      night TEXT NOT NULL,
      unit TEXT NOT NULL,
      step INTEGER NOT NULL,
      at INTEGER NOT NULL,
      executed_at INTEGER NOT NULL,
      PRIMARY KEY (night, unit)
    );
    CREATE TABLE lighting_overrides (
      id TEXT PRIMARY KEY,
      body TEXT NOT NULL,
      level INTEGER NOT NULL,
      reason TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      created_by TEXT NOT NULL,
      until INTEGER NOT NULL,
      mode TEXT NOT NULL,
      ended_at INTEGER,
      ended_by TEXT
    );
    CREATE INDEX lighting_overrides_active ON lighting_overrides (created_at) WHERE ended_at IS NULL;
    `,
  ],
];
