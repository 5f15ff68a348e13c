import type Database from 'better-sqlite3';
import { ServerError } from '../common/errors.js';

/** A stored voicemail message: the row; the audio is the WAV file at `file`. */
export interface VoicemailRecord {
	id: number;
	/** Whose message it is: an extension (the transfer target) or a configured mailbox. */
	mailbox: string;
	/** The client who left it (caller ID as shown to us). */
	caller: string;
	/** The number the client had called. */
	called: string;
	/** Absolute path of the WAV file. */
	file: string;
	sampleRate: number;
	durationMs: number;
	/** Why the client got voicemail: busy, no-answer, unreachable … */
	reason: string;
	heard: boolean;
	createdAt: Date;
}

export type VoicemailCreate = Omit<VoicemailRecord, 'id' | 'heard' | 'createdAt'>;

export class VoicemailNotFoundError extends ServerError {
	constructor(id: number) {
		super('VOICEMAIL_NOT_FOUND', `no voicemail message ${id}`);
	}
}

interface Row {
	id: number;
	mailbox: string;
	caller: string;
	called: string;
	file: string;
	sample_rate: number;
	duration_ms: number;
	reason: string;
	heard: number;
	created_at: number;
}

function record(r: Row): VoicemailRecord {
	return {
		id: r.id,
		mailbox: r.mailbox,
		caller: r.caller,
		called: r.called,
		file: r.file,
		sampleRate: r.sample_rate,
		durationMs: r.duration_ms,
		reason: r.reason,
		heard: r.heard === 1,
		createdAt: new Date(r.created_at),
	};
}

/**
 * The voicemail_messages table (store migration 3). Rows are written after
 * the WAV file is complete, so a row always has its audio; deleting a row
 * is the caller's cue to remove the file.
 */
export class VoicemailRepository {
	readonly #insert: Database.Statement<[string, string, string, string, number, number, string, number]>;
	readonly #get: Database.Statement<[number], Row>;
	readonly #all: Database.Statement<[], Row>;
	readonly #byMailbox: Database.Statement<[string], Row>;
	readonly #heard: Database.Statement<[number, number]>;
	readonly #delete: Database.Statement<[number]>;
	readonly #now: () => number;

	constructor(db: Database.Database, now: () => number = Date.now) {
		this.#now = now;
		this.#insert = db.prepare(
			'INSERT INTO voicemail_messages (mailbox, caller, called, file, sample_rate, duration_ms, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
		);
		this.#get = db.prepare('SELECT * FROM voicemail_messages WHERE id = ?');
		this.#all = db.prepare('SELECT * FROM voicemail_messages ORDER BY created_at, id');
		this.#byMailbox = db.prepare('SELECT * FROM voicemail_messages WHERE mailbox = ? ORDER BY created_at, id');
		this.#heard = db.prepare('UPDATE voicemail_messages SET heard = ? WHERE id = ?');
		this.#delete = db.prepare('DELETE FROM voicemail_messages WHERE id = ?');
	}

	create(m: VoicemailCreate): VoicemailRecord {
		const info = this.#insert.run(m.mailbox, m.caller, m.called, m.file, m.sampleRate, Math.round(m.durationMs), m.reason, this.#now());
		return this.get(Number(info.lastInsertRowid))!;
	}

	get(id: number): VoicemailRecord | undefined {
		const r = this.#get.get(id);
		return r ? record(r) : undefined;
	}

	/** Oldest first; all mailboxes, or one. */
	list(mailbox?: string): VoicemailRecord[] {
		return (mailbox === undefined ? this.#all.all() : this.#byMailbox.all(mailbox)).map(record);
	}

	markHeard(id: number, heard = true): VoicemailRecord {
		if (this.#heard.run(heard ? 1 : 0, id).changes === 0) {
			throw new VoicemailNotFoundError(id);
		}
		return this.get(id)!;
	}

	/** Deletes the row and returns it (the caller removes the file). */
	delete(id: number): VoicemailRecord {
		const r = this.get(id);
		if (!r) {
			throw new VoicemailNotFoundError(id);
		}
		this.#delete.run(id);
		return r;
	}
}
