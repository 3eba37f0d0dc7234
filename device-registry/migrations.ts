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
];
