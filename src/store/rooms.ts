import type Database from 'better-sqlite3';
import { deepFreeze, isConstraint, unknownKey, type RepoContext } from './context.js';
import { OwnerUnknownError, RoomNotFoundError, RoomNumberTakenError, ValidationError, WhitelistInvalidError } from './errors.js';
import type { AccessMode, Language, RoomCreate, RoomPatch, RoomRecord, SampleRate } from './types.js';
import {
	checkAccessMode,
	checkBoolean,
	checkCallerNumber,
	checkLanguage,
	checkMaxParticipants,
	checkNumber,
	checkPin,
	checkPinLength,
	checkSampleRate,
	checkText,
	checkWhitelist,
	generatePin,
	WHITELIST_MAX,
} from './validation.js';

interface RoomRow {
	id: number;
	number: string;
	name: string;
	language: string;
	sample_rate: number;
	access_mode: string;
	pin: string;
	pin_length: number | null;
	max_participants: number | null;
	music_on_hold: number;
	announce_names: number;
	owner: string | null;
	created_at: number;
	updated_at: number;
}

/** Column values of a room as written (named parameters). */
interface RoomParams {
	id?: number;
	number: string;
	name: string;
	language: Language;
	sample_rate: SampleRate;
	access_mode: AccessMode;
	pin: string;
	pin_length: number | null;
	max_participants: number | null;
	music_on_hold: 0 | 1;
	announce_names: 0 | 1;
	owner_id: number | null;
	created_at: number;
	updated_at: number;
}

/** A room's settings after validation, before it has an id. */
interface RoomValues {
	number: string;
	name: string;
	language: Language;
	sampleRate: SampleRate;
	accessMode: AccessMode;
	pin: string;
	pinLength: number | null;
	whitelist: readonly string[];
	maxParticipants: number | null;
	musicOnHold: boolean;
	announceNames: boolean;
	owner: string | null;
}

const CREATE_KEYS = ['number', 'name', 'language', 'sampleRate', 'accessMode', 'pin', 'pinLength', 'whitelist', 'maxParticipants', 'musicOnHold', 'announceNames', 'owner'] as const;

const SELECT = `SELECT r.id, r.number, r.name, r.language, r.sample_rate, r.access_mode, r.pin, r.pin_length,
	r.max_participants, r.music_on_hold, r.announce_names, u.extension AS owner, r.created_at, r.updated_at
FROM rooms r LEFT JOIN users u ON u.id = r.owner_id`;

/**
 * Conference rooms: create, read, change, delete. Every write is one
 * IMMEDIATE transaction and is announced on the Store (roomcreated,
 * roomupdated, roomdeleted) after it commits.
 */
export class RoomRepository {
	readonly #ctx: RepoContext;
	readonly #defaultSampleRate: SampleRate;
	readonly #byId: Database.Statement<[number], RoomRow>;
	readonly #byNumber: Database.Statement<[string], RoomRow>;
	readonly #byOwner: Database.Statement<[number], RoomRow>;
	readonly #all: Database.Statement<[], RoomRow>;
	readonly #whitelistOf: Database.Statement<[number], { caller: string }>;
	readonly #allWhitelists: Database.Statement<[], { room_id: number; caller: string }>;
	readonly #roomIdByNumber: Database.Statement<[string], { id: number }>;
	readonly #userIdByExtension: Database.Statement<[string], { id: number }>;
	readonly #insert: Database.Statement<[RoomParams]>;
	readonly #update: Database.Statement<[RoomParams]>;
	readonly #setPin: Database.Statement<[{ id: number; pin: string; updated_at: number }]>;
	readonly #touch: Database.Statement<[{ id: number; updated_at: number }]>;
	readonly #delete: Database.Statement<[number]>;
	readonly #clearWhitelist: Database.Statement<[number]>;
	readonly #addCaller: Database.Statement<[{ room_id: number; caller: string; position: number }]>;
	readonly #removeCaller: Database.Statement<[number, string]>;
	readonly #whitelistSize: Database.Statement<[number], { n: number; last: number | null }>;
	readonly #createTx: Database.Transaction<(v: RoomValues) => RoomRecord>;
	readonly #updateTx: Database.Transaction<(number: string, patch: RoomPatch) => [RoomRecord, RoomRecord]>;
	readonly #pinTx: Database.Transaction<(number: string) => [RoomRecord, RoomRecord]>;
	readonly #deleteTx: Database.Transaction<(number: string) => RoomRecord>;
	readonly #whitelistTx: Database.Transaction<(number: string, caller: string, add: boolean) => [RoomRecord, RoomRecord] | undefined>;

	/** @internal Created by the Store. */
	constructor(ctx: RepoContext, defaultSampleRate: SampleRate) {
		this.#ctx = ctx;
		this.#defaultSampleRate = defaultSampleRate;
		const db = ctx.db;
		this.#byId = db.prepare(`${SELECT} WHERE r.id = ?`);
		this.#byNumber = db.prepare(`${SELECT} WHERE r.number = ?`);
		this.#byOwner = db.prepare(`${SELECT} WHERE r.owner_id = ? ORDER BY r.number`);
		this.#all = db.prepare(`${SELECT} ORDER BY r.number`);
		this.#whitelistOf = db.prepare('SELECT caller FROM room_whitelist WHERE room_id = ? ORDER BY position');
		this.#allWhitelists = db.prepare('SELECT room_id, caller FROM room_whitelist ORDER BY room_id, position');
		this.#roomIdByNumber = db.prepare('SELECT id FROM rooms WHERE number = ?');
		this.#userIdByExtension = db.prepare('SELECT id FROM users WHERE extension = ?');
		this.#insert = db.prepare(`INSERT INTO rooms (number, name, language, sample_rate, access_mode, pin, pin_length,
	max_participants, music_on_hold, announce_names, owner_id, created_at, updated_at)
VALUES (@number, @name, @language, @sample_rate, @access_mode, @pin, @pin_length,
	@max_participants, @music_on_hold, @announce_names, @owner_id, @created_at, @updated_at)`);
		this.#update = db.prepare(`UPDATE rooms SET number = @number, name = @name, language = @language,
	sample_rate = @sample_rate, access_mode = @access_mode, pin = @pin, pin_length = @pin_length,
	max_participants = @max_participants, music_on_hold = @music_on_hold, announce_names = @announce_names,
	owner_id = @owner_id, updated_at = @updated_at
WHERE id = @id`);
		this.#setPin = db.prepare('UPDATE rooms SET pin = @pin, updated_at = @updated_at WHERE id = @id');
		this.#touch = db.prepare('UPDATE rooms SET updated_at = @updated_at WHERE id = @id');
		this.#delete = db.prepare('DELETE FROM rooms WHERE id = ?');
		this.#clearWhitelist = db.prepare('DELETE FROM room_whitelist WHERE room_id = ?');
		this.#addCaller = db.prepare('INSERT INTO room_whitelist (room_id, caller, position) VALUES (@room_id, @caller, @position)');
		this.#removeCaller = db.prepare('DELETE FROM room_whitelist WHERE room_id = ? AND caller = ?');
		this.#whitelistSize = db.prepare('SELECT count(*) AS n, max(position) AS last FROM room_whitelist WHERE room_id = ?');

		this.#createTx = db.transaction((v: RoomValues) => {
			this.#assertNumberFree(v.number, undefined);
			const t = this.#ctx.now();
			const params = this.#params(v, t, t);
			const id = Number(this.#insert.run(params).lastInsertRowid);
			this.#writeWhitelist(id, v.whitelist);
			return this.#read(id);
		});

		this.#updateTx = db.transaction((number: string, patch: RoomPatch) => {
			const prev = this.#mustGet(number);
			const next = this.#merge(prev, patch);
			if (next.number !== prev.number) {
				this.#assertNumberFree(next.number, prev.id);
			}
			this.#update.run({ ...this.#params(next, prev.createdAt.getTime(), this.#ctx.now()), id: prev.id });
			if (patch.whitelist !== undefined) {
				this.#writeWhitelist(prev.id, next.whitelist);
			}
			return [this.#read(prev.id), prev];
		});

		this.#pinTx = db.transaction((number: string) => {
			const prev = this.#mustGet(number);
			let pin = generatePin(prev.pinLength);
			while (pin === prev.pin) {
				pin = generatePin(prev.pinLength);
			}
			this.#setPin.run({ id: prev.id, pin, updated_at: this.#ctx.now() });
			return [this.#read(prev.id), prev];
		});

		this.#deleteTx = db.transaction((number: string) => {
			const prev = this.#mustGet(number);
			this.#delete.run(prev.id);
			return prev;
		});

		this.#whitelistTx = db.transaction((number: string, caller: string, add: boolean) => {
			const prev = this.#mustGet(number);
			const present = prev.whitelist.includes(caller);
			if (add === present) {
				return undefined;
			}
			if (add) {
				const size = this.#whitelistSize.get(prev.id);
				if ((size?.n ?? 0) >= WHITELIST_MAX) {
					throw new WhitelistInvalidError('whitelist', `whitelist may hold at most ${WHITELIST_MAX} numbers`);
				}
				this.#addCaller.run({ room_id: prev.id, caller, position: (size?.last ?? -1) + 1 });
			} else {
				this.#removeCaller.run(prev.id, caller);
			}
			this.#touch.run({ id: prev.id, updated_at: this.#ctx.now() });
			return [this.#read(prev.id), prev];
		});
	}

	/** Creates a room; a PIN is generated unless one is given. */
	create(input: RoomCreate): RoomRecord {
		const v = this.#validateCreate(input);
		const room = this.#write(v.number, () => this.#createTx.immediate(v));
		this.#ctx.emit('roomcreated', room);
		return room;
	}

	get(id: number): RoomRecord | undefined {
		const row = this.#byId.get(id);
		return row && this.#toRecord(row, this.#callers(row.id));
	}

	getByNumber(number: string): RoomRecord | undefined {
		const row = this.#byNumber.get(number);
		return row && this.#toRecord(row, this.#callers(row.id));
	}

	/** Every room, by number. */
	list(): RoomRecord[] {
		const lists = new Map<number, string[]>();
		for (const { room_id, caller } of this.#allWhitelists.iterate()) {
			let l = lists.get(room_id);
			if (!l) {
				l = [];
				lists.set(room_id, l);
			}
			l.push(caller);
		}
		return this.#all.all().map((row) => this.#toRecord(row, lists.get(row.id) ?? []));
	}

	/**
	 * Changes a room (absent keys stay). Renumbering is allowed; the event's
	 * `previous` carries the old number. Throws RoomNotFoundError,
	 * RoomNumberTakenError, ValidationError (PinInvalidError, …).
	 */
	update(number: string, patch: RoomPatch): RoomRecord {
		this.#validatePatch(patch);
		if (Object.keys(patch).length === 0) {
			return this.#mustGet(number);
		}
		const [room, prev] = this.#write(patch.number ?? number, () => this.#updateTx.immediate(number, patch));
		this.#ctx.emit('roomupdated', room, prev);
		return room;
	}

	/** A fresh PIN (different from the old one) at the room's required length, or 4-6 digits. */
	regeneratePin(number: string): RoomRecord {
		const [room, prev] = this.#pinTx.immediate(number);
		this.#ctx.emit('roomupdated', room, prev);
		return room;
	}

	/** Adds a caller number to the whitelist (no change when it is there already). */
	addToWhitelist(number: string, caller: string): RoomRecord {
		checkCallerNumber('caller', caller);
		return this.#changeWhitelist(number, caller, true);
	}

	/** Removes a caller number; returns undefined when it was not on the list. */
	removeFromWhitelist(number: string, caller: string): RoomRecord | undefined {
		const room = this.getByNumber(number);
		if (room && !room.whitelist.includes(caller)) {
			return undefined;
		}
		return this.#changeWhitelist(number, caller, false);
	}

	/** Deletes the room and its whitelist; returns what it was. */
	delete(number: string): RoomRecord {
		const room = this.#deleteTx.immediate(number);
		this.#ctx.emit('roomdeleted', room);
		return room;
	}

	/** @internal For UserRepository: rooms a user owns (before it is deleted). */
	ownedBy(userId: number): RoomRecord[] {
		return this.#byOwner.all(userId).map((row) => this.#toRecord(row, this.#callers(row.id)));
	}

	#changeWhitelist(number: string, caller: string, add: boolean): RoomRecord {
		const result = this.#whitelistTx.immediate(number, caller, add);
		if (!result) {
			return this.#mustGet(number);
		}
		this.#ctx.emit('roomupdated', result[0], result[1]);
		return result[0];
	}

	/** Runs a write, turning a constraint race with another process into the error a check would give. */
	#write<T>(number: string, fn: () => T): T {
		try {
			return fn();
		} catch (error) {
			if (isConstraint(error, 'rooms.number')) {
				throw new RoomNumberTakenError(number, 'room');
			}
			if (isConstraint(error, 'room number is a user extension')) {
				throw new RoomNumberTakenError(number, 'user');
			}
			throw error;
		}
	}

	#mustGet(number: string): RoomRecord {
		const room = this.getByNumber(number);
		if (!room) {
			throw new RoomNotFoundError(number);
		}
		return room;
	}

	#read(id: number): RoomRecord {
		const room = this.get(id);
		if (!room) {
			throw new Error(`room ${id} vanished inside its own transaction`);
		}
		return room;
	}

	#callers(id: number): string[] {
		return this.#whitelistOf.all(id).map((r) => r.caller);
	}

	#assertNumberFree(number: string, selfId: number | undefined): void {
		const room = this.#roomIdByNumber.get(number);
		if (room && room.id !== selfId) {
			throw new RoomNumberTakenError(number, 'room');
		}
		if (this.#userIdByExtension.get(number)) {
			throw new RoomNumberTakenError(number, 'user');
		}
	}

	#ownerId(owner: string | null): number | null {
		if (owner === null) {
			return null;
		}
		const user = this.#userIdByExtension.get(owner);
		if (!user) {
			throw new OwnerUnknownError(owner);
		}
		return user.id;
	}

	#writeWhitelist(roomId: number, callers: readonly string[]): void {
		this.#clearWhitelist.run(roomId);
		callers.forEach((caller, position) => this.#addCaller.run({ room_id: roomId, caller, position }));
	}

	#params(v: RoomValues, createdAt: number, updatedAt: number): RoomParams {
		return {
			number: v.number,
			name: v.name,
			language: v.language,
			sample_rate: v.sampleRate,
			access_mode: v.accessMode,
			pin: v.pin,
			pin_length: v.pinLength,
			max_participants: v.maxParticipants,
			music_on_hold: v.musicOnHold ? 1 : 0,
			announce_names: v.announceNames ? 1 : 0,
			owner_id: this.#ownerId(v.owner),
			created_at: createdAt,
			updated_at: updatedAt,
		};
	}

	#validateCreate(input: RoomCreate): RoomValues {
		this.#validatePatch(input);
		checkNumber('number', input.number);
		checkText('name', input.name, 1);
		const pinLength = input.pinLength ?? null;
		return {
			number: input.number,
			name: input.name,
			language: input.language ?? 'en',
			sampleRate: input.sampleRate ?? this.#defaultSampleRate,
			accessMode: input.accessMode ?? 'none',
			pin: input.pin === undefined ? generatePin(pinLength) : checkPin(input.pin, pinLength),
			pinLength,
			whitelist: input.whitelist === undefined ? [] : checkWhitelist(input.whitelist),
			maxParticipants: input.maxParticipants ?? null,
			musicOnHold: input.musicOnHold ?? true,
			announceNames: input.announceNames ?? false,
			owner: input.owner ?? null,
		};
	}

	/** Field-by-field checks; rules between fields (PIN vs pinLength) come in #merge or create. */
	#validatePatch(p: RoomPatch): void {
		if (p === null || typeof p !== 'object') {
			throw new ValidationError('', 'room settings must be an object');
		}
		const extra = unknownKey(p, CREATE_KEYS);
		if (extra !== undefined) {
			throw new ValidationError(extra, `unknown room field ${extra}`);
		}
		const has = (k: keyof RoomPatch): boolean => Object.hasOwn(p, k);
		if (has('number')) {
			checkNumber('number', p.number);
		}
		if (has('name')) {
			checkText('name', p.name, 1);
		}
		if (has('language')) {
			checkLanguage(p.language);
		}
		if (has('sampleRate')) {
			checkSampleRate(p.sampleRate);
		}
		if (has('accessMode')) {
			checkAccessMode(p.accessMode);
		}
		if (has('pinLength')) {
			checkPinLength(p.pinLength);
		}
		if (has('pin')) {
			checkPin(p.pin, null);
		}
		if (has('whitelist')) {
			checkWhitelist(p.whitelist);
		}
		if (has('maxParticipants')) {
			checkMaxParticipants(p.maxParticipants);
		}
		if (has('musicOnHold')) {
			checkBoolean('musicOnHold', p.musicOnHold);
		}
		if (has('announceNames')) {
			checkBoolean('announceNames', p.announceNames);
		}
		if (has('owner') && p.owner !== null) {
			checkNumber('owner', p.owner);
		}
	}

	#merge(prev: RoomRecord, p: RoomPatch): RoomValues {
		const pinLength = p.pinLength !== undefined ? p.pinLength : prev.pinLength;
		let pin: string;
		if (p.pin !== undefined) {
			pin = checkPin(p.pin, pinLength);
		} else if (pinLength !== null && prev.pin.length !== pinLength) {
			// The room now demands another length: the old PIN cannot be used.
			pin = generatePin(pinLength);
		} else {
			pin = prev.pin;
		}
		return {
			number: p.number ?? prev.number,
			name: p.name ?? prev.name,
			language: p.language ?? prev.language,
			sampleRate: p.sampleRate ?? prev.sampleRate,
			accessMode: p.accessMode ?? prev.accessMode,
			pin,
			pinLength,
			whitelist: p.whitelist !== undefined ? checkWhitelist(p.whitelist) : prev.whitelist,
			maxParticipants: p.maxParticipants !== undefined ? p.maxParticipants : prev.maxParticipants,
			musicOnHold: p.musicOnHold ?? prev.musicOnHold,
			announceNames: p.announceNames ?? prev.announceNames,
			owner: p.owner !== undefined ? p.owner : prev.owner,
		};
	}

	#toRecord(row: RoomRow, whitelist: string[]): RoomRecord {
		return deepFreeze<RoomRecord>({
			id: row.id,
			number: row.number,
			name: row.name,
			language: row.language as Language,
			sampleRate: row.sample_rate as SampleRate,
			accessMode: row.access_mode as AccessMode,
			pin: row.pin,
			pinLength: row.pin_length,
			whitelist,
			maxParticipants: row.max_participants,
			musicOnHold: row.music_on_hold === 1,
			announceNames: row.announce_names === 1,
			owner: row.owner,
			createdAt: new Date(row.created_at),
			updatedAt: new Date(row.updated_at),
		});
	}
}
