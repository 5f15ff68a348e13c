import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { TypedEmitter } from '../common/events.js';
import type { RepoContext } from './context.js';
import { migrate, SCHEMA_VERSION } from './migrations.js';
import { RegistrationRepository } from './registrations.js';
import { RoomRepository } from './rooms.js';
import type { SampleRate, StoreEvents } from './types.js';
import { UserRepository } from './users.js';
import { checkSampleRate } from './validation.js';

export interface StoreOptions {
	/** Digest realm new users' HA1 hashes are made for. Default 'confsrv' (config's sip.realm). */
	realm?: string;
	/** Mix rate of rooms created without one. Default 16000. */
	defaultSampleRate?: SampleRate;
	/** Wall clock in ms (timestamps, registration expiry). Default Date.now. */
	now?: () => number;
	/** How long a write waits for another process's lock before SQLITE_BUSY, ms. Default 5000. */
	busyTimeoutMs?: number;
}

/** The database file inside a data directory. */
export function defaultStorePath(dataDir: string): string {
	return join(dataDir, 'confsrv.sqlite');
}

/**
 * The embedded database: SQLite through better-sqlite3, the only place with
 * SQL. Writes are synchronous IMMEDIATE transactions, committed before the
 * call returns and before any change event is emitted. WAL with
 * synchronous=NORMAL: a committed write survives the process crashing (a
 * power cut may lose the last transactions, never corrupt the file).
 */
export class Store extends TypedEmitter<StoreEvents> {
	/** The file, or ':memory:'. */
	readonly path: string;
	readonly rooms: RoomRepository;
	readonly users: UserRepository;
	readonly registrations: RegistrationRepository;
	readonly #db: Database.Database;
	readonly #version: Database.Statement<[], { v: number | null }>;

	/** @internal Use openStore(). */
	constructor(db: Database.Database, path: string, options: StoreOptions) {
		super();
		this.#db = db;
		this.path = path;
		this.#version = db.prepare('SELECT max(version) AS v FROM schema_migrations');
		const ctx: RepoContext = {
			db,
			now: options.now ?? Date.now,
			emit: (event, ...args) => {
				this.safeEmit(event, ...args);
			},
		};
		this.rooms = new RoomRepository(ctx, checkSampleRate(options.defaultSampleRate ?? 16000));
		this.users = new UserRepository(ctx, options.realm ?? 'confsrv', this.rooms);
		this.registrations = new RegistrationRepository(ctx);
	}

	/** @internal The connection, for repositories of features outside src/store (src/voicemail). */
	get database(): Database.Database {
		return this.#db;
	}

	get open(): boolean {
		return this.#db.open;
	}

	/** The schema version the file is at (SCHEMA_VERSION once opened). */
	get schemaVersion(): number {
		return this.#version.get()?.v ?? 0;
	}

	/** Closes the database (checkpointing the WAL). Idempotent. */
	close(): void {
		if (this.#db.open) {
			this.#db.close();
		}
		this.removeAllListeners();
	}
}

/**
 * Opens (creating it and its directory if needed) and migrates the database.
 * Throws MigrationError for a file from a newer version.
 */
export function openStore(path: string | ':memory:', options: StoreOptions = {}): Store {
	if (path !== ':memory:') {
		mkdirSync(dirname(path), { recursive: true });
	}
	const db = new Database(path, { timeout: options.busyTimeoutMs ?? 5000 });
	try {
		db.pragma('journal_mode = WAL');
		db.pragma('synchronous = NORMAL');
		db.pragma('foreign_keys = ON');
		migrate(db, undefined, options.now);
		return new Store(db, path, options);
	} catch (error) {
		db.close();
		throw error;
	}
}

export { SCHEMA_VERSION };
