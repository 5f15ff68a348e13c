/**
 * Schema migrations, numbered, in code. Each runs once, in its own
 * transaction together with its row in schema_migrations, so a crash half way
 * leaves the previous version intact. Never edit a migration that has
 * shipped: add the next number.
 */
import type Database from 'better-sqlite3';
import { MigrationError } from './errors.js';

export interface Migration {
	readonly version: number;
	readonly name: string;
	readonly sql: string;
}

export const migrations: readonly Migration[] = [
	{
		version: 1,
		name: 'users and rooms',
		sql: `
CREATE TABLE users (
	id           INTEGER PRIMARY KEY,
	extension    TEXT    NOT NULL UNIQUE,
	display_name TEXT    NOT NULL DEFAULT '',
	realm        TEXT    NOT NULL,
	ha1_md5      TEXT    NOT NULL CHECK (length(ha1_md5) = 32),
	ha1_sha256   TEXT    NOT NULL CHECK (length(ha1_sha256) = 64),
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL
);

CREATE TABLE rooms (
	id               INTEGER PRIMARY KEY,
	number           TEXT    NOT NULL UNIQUE,
	name             TEXT    NOT NULL,
	language         TEXT    NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'de', 'ru', 'it')),
	sample_rate      INTEGER NOT NULL DEFAULT 16000 CHECK (sample_rate IN (8000, 16000, 48000)),
	access_mode      TEXT    NOT NULL DEFAULT 'none' CHECK (access_mode IN ('none', 'pin', 'whitelist')),
	pin              TEXT    NOT NULL CHECK (length(pin) >= 1 AND pin NOT GLOB '*[^0-9]*'),
	pin_length       INTEGER CHECK (pin_length IS NULL OR (pin_length BETWEEN 4 AND 10 AND length(pin) = pin_length)),
	max_participants INTEGER CHECK (max_participants IS NULL OR max_participants >= 1),
	music_on_hold    INTEGER NOT NULL DEFAULT 1 CHECK (music_on_hold IN (0, 1)),
	announce_names   INTEGER NOT NULL DEFAULT 0 CHECK (announce_names IN (0, 1)),
	owner_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL
);
CREATE INDEX rooms_owner ON rooms (owner_id);

CREATE TABLE room_whitelist (
	room_id  INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	caller   TEXT    NOT NULL,
	PRIMARY KEY (room_id, caller)
) WITHOUT ROWID;

-- One dial plan: a room number is never a user's extension and back. The
-- repositories check first (for a precise error); these hold the line for
-- anything else that writes the file.
CREATE TRIGGER rooms_number_free_insert BEFORE INSERT ON rooms
WHEN EXISTS (SELECT 1 FROM users WHERE extension = NEW.number)
BEGIN SELECT RAISE(ABORT, 'room number is a user extension'); END;

CREATE TRIGGER rooms_number_free_update BEFORE UPDATE OF number ON rooms
WHEN EXISTS (SELECT 1 FROM users WHERE extension = NEW.number)
BEGIN SELECT RAISE(ABORT, 'room number is a user extension'); END;

CREATE TRIGGER users_extension_free_insert BEFORE INSERT ON users
WHEN EXISTS (SELECT 1 FROM rooms WHERE number = NEW.extension)
BEGIN SELECT RAISE(ABORT, 'user extension is a room number'); END;

CREATE TRIGGER users_extension_free_update BEFORE UPDATE OF extension ON users
WHEN EXISTS (SELECT 1 FROM rooms WHERE number = NEW.extension)
BEGIN SELECT RAISE(ABORT, 'user extension is a room number'); END;
`,
	},
	{
		version: 2,
		name: 'registrations',
		sql: `
CREATE TABLE registrations (
	aor            TEXT    NOT NULL,
	contact        TEXT    NOT NULL,
	source_address TEXT    NOT NULL,
	source_port    INTEGER NOT NULL CHECK (source_port BETWEEN 0 AND 65535),
	transport      TEXT    NOT NULL CHECK (transport IN ('udp', 'tcp', 'tls', 'ws', 'wss')),
	expires_at     INTEGER NOT NULL,
	call_id        TEXT    NOT NULL,
	cseq           INTEGER NOT NULL CHECK (cseq >= 0),
	q              REAL    CHECK (q IS NULL OR (q >= 0 AND q <= 1)),
	updated_at     INTEGER NOT NULL,
	PRIMARY KEY (aor, contact)
) WITHOUT ROWID;
CREATE INDEX registrations_expires ON registrations (expires_at);
`,
	},
	{
		version: 3,
		name: 'voicemail',
		sql: `
CREATE TABLE voicemail_messages (
	id          INTEGER PRIMARY KEY,
	mailbox     TEXT    NOT NULL,
	caller      TEXT    NOT NULL DEFAULT '',
	called      TEXT    NOT NULL DEFAULT '',
	file        TEXT    NOT NULL,
	sample_rate INTEGER NOT NULL CHECK (sample_rate > 0),
	duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
	reason      TEXT    NOT NULL DEFAULT '',
	heard       INTEGER NOT NULL DEFAULT 0 CHECK (heard IN (0, 1)),
	created_at  INTEGER NOT NULL
);
CREATE INDEX voicemail_mailbox ON voicemail_messages (mailbox, created_at);
`,
	},
];

/** The newest schema version this code knows. */
export const SCHEMA_VERSION = migrations.reduce((max, m) => Math.max(max, m.version), 0);

/**
 * Brings the database up to SCHEMA_VERSION. Idempotent: an up-to-date file is
 * left alone. Refuses a file from a newer version rather than guess.
 * Returns the versions it applied.
 */
export function migrate(db: Database.Database, list: readonly Migration[] = migrations, now: () => number = Date.now): number[] {
	list.forEach((m, i) => {
		if (m.version !== i + 1) {
			throw new MigrationError(`migration ${m.name} has version ${m.version}, expected ${i + 1}`);
		}
	});
	db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at INTEGER NOT NULL
)`);
	const versions = db.prepare<[], { version: number }>('SELECT version FROM schema_migrations ORDER BY version').all().map((r) => r.version);
	versions.forEach((v, i) => {
		if (v !== i + 1) {
			throw new MigrationError(`schema_migrations is not a contiguous history (found ${versions.join(', ')})`);
		}
	});
	if (versions.length > list.length) {
		throw new MigrationError(`database schema version ${versions.length} is newer than this server's (${list.length}); refusing to open it`);
	}
	const has = db.prepare<[number], { version: number }>('SELECT version FROM schema_migrations WHERE version = ?');
	const record = db.prepare<[number, string, number]>('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
	const done: number[] = [];
	for (const m of list.slice(versions.length)) {
		// Checked again under the write lock: another process may have got here first.
		const ran = db.transaction(() => {
			if (has.get(m.version) !== undefined) {
				return false;
			}
			db.exec(m.sql);
			record.run(m.version, m.name, now());
			return true;
		}).immediate();
		if (ran) {
			done.push(m.version);
		}
	}
	return done;
}
