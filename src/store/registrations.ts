import type Database from 'better-sqlite3';
import { deepFreeze, type RepoContext } from './context.js';
import { ValidationError } from './errors.js';
import type { RegistrationRecord, RegistrationUpsert, Transport } from './types.js';
import { checkTransport } from './validation.js';

interface RegistrationRow {
	aor: string;
	contact: string;
	source_address: string;
	source_port: number;
	transport: string;
	expires_at: number;
	call_id: string;
	cseq: number;
	q: number | null;
	updated_at: number;
}

const COLUMNS = 'aor, contact, source_address, source_port, transport, expires_at, call_id, cseq, q, updated_at';
const MAX_URI = 2048;
const MAX_CSEQ = 2 ** 31 - 1;

/**
 * Registrar bindings (RFC 3261 §10.3) that survive a restart. The registrar
 * owns the rules (Call-ID/CSeq ordering, expiry clamping); this keeps rows.
 * Reads skip expired bindings; purgeExpired() deletes them.
 */
export class RegistrationRepository {
	readonly #ctx: RepoContext;
	readonly #upsert: Database.Statement<[RegistrationRow]>;
	readonly #get: Database.Statement<[string, string], RegistrationRow>;
	readonly #byAor: Database.Statement<[string, number], RegistrationRow>;
	readonly #all: Database.Statement<[number], RegistrationRow>;
	readonly #delete: Database.Statement<[string, string]>;
	readonly #deleteAor: Database.Statement<[string]>;
	readonly #purge: Database.Statement<[number]>;

	/** @internal Created by the Store. */
	constructor(ctx: RepoContext) {
		this.#ctx = ctx;
		const db = ctx.db;
		this.#upsert = db.prepare(`INSERT INTO registrations (${COLUMNS})
VALUES (@aor, @contact, @source_address, @source_port, @transport, @expires_at, @call_id, @cseq, @q, @updated_at)
ON CONFLICT (aor, contact) DO UPDATE SET source_address = excluded.source_address, source_port = excluded.source_port,
	transport = excluded.transport, expires_at = excluded.expires_at, call_id = excluded.call_id, cseq = excluded.cseq,
	q = excluded.q, updated_at = excluded.updated_at`);
		this.#get = db.prepare(`SELECT ${COLUMNS} FROM registrations WHERE aor = ? AND contact = ?`);
		// Highest q first (no q counts as 1.0), then the most recently refreshed.
		this.#byAor = db.prepare(`SELECT ${COLUMNS} FROM registrations WHERE aor = ? AND expires_at > ? ORDER BY coalesce(q, 1.0) DESC, updated_at DESC, contact`);
		this.#all = db.prepare(`SELECT ${COLUMNS} FROM registrations WHERE expires_at > ? ORDER BY aor, coalesce(q, 1.0) DESC, updated_at DESC, contact`);
		this.#delete = db.prepare('DELETE FROM registrations WHERE aor = ? AND contact = ?');
		this.#deleteAor = db.prepare('DELETE FROM registrations WHERE aor = ?');
		this.#purge = db.prepare('DELETE FROM registrations WHERE expires_at <= ?');
	}

	/** Adds or refreshes the binding (aor, contact). Returns it as stored. */
	upsert(b: RegistrationUpsert): RegistrationRecord {
		const row = validate(b, this.#ctx.now());
		this.#upsert.run(row);
		return toRecord(row);
	}

	/** The binding, expired or not (the registrar compares Call-ID and CSeq against it). */
	get(aor: string, contact: string): RegistrationRecord | undefined {
		const row = this.#get.get(aor, contact);
		return row && toRecord(row);
	}

	/** The AOR's live bindings, preferred first. */
	listByAor(aor: string, now: Date = new Date(this.#ctx.now())): RegistrationRecord[] {
		return this.#byAor.all(aor, now.getTime()).map(toRecord);
	}

	/** Every live binding (e.g. to rebuild the location service after a restart). */
	list(now: Date = new Date(this.#ctx.now())): RegistrationRecord[] {
		return this.#all.all(now.getTime()).map(toRecord);
	}

	/** Returns whether there was such a binding. */
	delete(aor: string, contact: string): boolean {
		return this.#delete.run(aor, contact).changes > 0;
	}

	/** Removes all of an AOR's bindings (REGISTER with `Contact: *`); returns how many. */
	deleteAor(aor: string): number {
		return this.#deleteAor.run(aor).changes;
	}

	/** Deletes bindings whose expiry is at or before `now`; returns how many. */
	purgeExpired(now: Date = new Date(this.#ctx.now())): number {
		return this.#purge.run(now.getTime()).changes;
	}
}

function text(field: string, v: unknown, max: number): string {
	if (typeof v !== 'string' || v.length === 0 || v.length > max) {
		throw new ValidationError(field, `${field} must be a string of 1-${max} characters`);
	}
	return v;
}

function validate(b: RegistrationUpsert, now: number): RegistrationRow {
	if (b === null || typeof b !== 'object') {
		throw new ValidationError('', 'a registration must be an object');
	}
	const src = b.source as unknown;
	if (src === null || typeof src !== 'object') {
		throw new ValidationError('source', 'source must be { address, port, transport }');
	}
	const { address, port, transport } = src as Record<string, unknown>;
	if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535) {
		throw new ValidationError('source.port', 'source.port must be an integer 0-65535');
	}
	if (!(b.expiresAt instanceof Date) || Number.isNaN(b.expiresAt.getTime())) {
		throw new ValidationError('expiresAt', 'expiresAt must be a valid Date');
	}
	if (!Number.isInteger(b.cseq) || b.cseq < 0 || b.cseq > MAX_CSEQ) {
		throw new ValidationError('cseq', `cseq must be an integer 0-${MAX_CSEQ}`);
	}
	const q = b.q ?? null;
	if (q !== null && (typeof q !== 'number' || !(q >= 0 && q <= 1))) {
		throw new ValidationError('q', 'q must be a number 0-1 or null');
	}
	return {
		aor: text('aor', b.aor, MAX_URI),
		contact: text('contact', b.contact, MAX_URI),
		source_address: text('source.address', address, 255),
		source_port: port as number,
		transport: checkTransport(transport),
		expires_at: b.expiresAt.getTime(),
		call_id: text('callId', b.callId, 255),
		cseq: b.cseq,
		q,
		updated_at: now,
	};
}

function toRecord(row: RegistrationRow): RegistrationRecord {
	return deepFreeze<RegistrationRecord>({
		aor: row.aor,
		contact: row.contact,
		source: { address: row.source_address, port: row.source_port, transport: row.transport as Transport },
		expiresAt: new Date(row.expires_at),
		callId: row.call_id,
		cseq: row.cseq,
		q: row.q,
		updatedAt: new Date(row.updated_at),
	});
}
