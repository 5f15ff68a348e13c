import type Database from 'better-sqlite3';
import { ha1ForAllAlgorithms } from '../sip/auth/index.js';
import { deepFreeze, isConstraint, unknownKey, type RepoContext } from './context.js';
import { ExtensionTakenError, UserNotFoundError, ValidationError } from './errors.js';
import type { RoomRecord, UserCreate, UserPatch, UserRecord } from './types.js';
import { checkNumber, checkPassword, checkText } from './validation.js';

interface UserRow {
	id: number;
	extension: string;
	display_name: string;
	realm: string;
	ha1_md5: string;
	ha1_sha256: string;
	created_at: number;
	updated_at: number;
}

/** @internal The room lookups a user deletion needs (RoomRepository). */
export interface OwnedRooms {
	ownedBy(userId: number): RoomRecord[];
	get(id: number): RoomRecord | undefined;
}

const CREATE_KEYS = ['extension', 'displayName', 'password', 'ha1'] as const;
const PATCH_KEYS = ['displayName', 'password'] as const;

/**
 * Users (phones that register). Only HA1 hashes for the store's realm are
 * written: the password never reaches the database or a record.
 */
export class UserRepository {
	/** The digest realm new HA1 hashes are made for. */
	readonly realm: string;
	readonly #ctx: RepoContext;
	readonly #rooms: OwnedRooms;
	readonly #byExtension: Database.Statement<[string], UserRow>;
	readonly #all: Database.Statement<[], UserRow>;
	readonly #roomByNumber: Database.Statement<[string], { id: number }>;
	readonly #insert: Database.Statement<[Omit<UserRow, 'id'>]>;
	readonly #update: Database.Statement<[Pick<UserRow, 'id' | 'display_name' | 'realm' | 'ha1_md5' | 'ha1_sha256' | 'updated_at'>]>;
	readonly #delete: Database.Statement<[number]>;
	readonly #touchOwned: Database.Statement<[number, number]>;
	readonly #createTx: Database.Transaction<(row: Omit<UserRow, 'id'>) => UserRecord>;
	readonly #updateTx: Database.Transaction<(extension: string, patch: UserPatch) => [UserRecord, UserRecord]>;
	readonly #deleteTx: Database.Transaction<(extension: string) => [UserRecord, Array<[RoomRecord, RoomRecord]>]>;

	/** @internal Created by the Store. */
	constructor(ctx: RepoContext, realm: string, rooms: OwnedRooms) {
		this.#ctx = ctx;
		this.realm = realm;
		this.#rooms = rooms;
		const db = ctx.db;
		this.#byExtension = db.prepare('SELECT id, extension, display_name, realm, ha1_md5, ha1_sha256, created_at, updated_at FROM users WHERE extension = ?');
		this.#all = db.prepare('SELECT id, extension, display_name, realm, ha1_md5, ha1_sha256, created_at, updated_at FROM users ORDER BY extension');
		this.#roomByNumber = db.prepare('SELECT id FROM rooms WHERE number = ?');
		this.#insert = db.prepare(`INSERT INTO users (extension, display_name, realm, ha1_md5, ha1_sha256, created_at, updated_at)
VALUES (@extension, @display_name, @realm, @ha1_md5, @ha1_sha256, @created_at, @updated_at)`);
		this.#update = db.prepare(`UPDATE users SET display_name = @display_name, realm = @realm, ha1_md5 = @ha1_md5,
	ha1_sha256 = @ha1_sha256, updated_at = @updated_at WHERE id = @id`);
		this.#delete = db.prepare('DELETE FROM users WHERE id = ?');
		this.#touchOwned = db.prepare('UPDATE rooms SET updated_at = ? WHERE owner_id = ?');

		this.#createTx = db.transaction((row: Omit<UserRow, 'id'>) => {
			if (this.#byExtension.get(row.extension)) {
				throw new ExtensionTakenError(row.extension, 'user');
			}
			if (this.#roomByNumber.get(row.extension)) {
				throw new ExtensionTakenError(row.extension, 'room');
			}
			this.#insert.run(row);
			return this.#mustGet(row.extension);
		});

		this.#updateTx = db.transaction((extension: string, patch: UserPatch) => {
			const prev = this.#mustGet(extension);
			const ha1 = patch.password !== undefined ? ha1ForAllAlgorithms(prev.extension, this.realm, patch.password) : undefined;
			this.#update.run({
				id: prev.id,
				display_name: patch.displayName ?? prev.displayName,
				realm: ha1 ? this.realm : prev.realm,
				ha1_md5: ha1?.md5 ?? prev.ha1.md5,
				ha1_sha256: ha1?.sha256 ?? prev.ha1.sha256,
				updated_at: this.#ctx.now(),
			});
			return [this.#mustGet(extension), prev];
		});

		this.#deleteTx = db.transaction((extension: string) => {
			const prev = this.#mustGet(extension);
			const owned = this.#rooms.ownedBy(prev.id);
			this.#touchOwned.run(this.#ctx.now(), prev.id);
			// rooms.owner_id is ON DELETE SET NULL: those rooms lose their owner.
			this.#delete.run(prev.id);
			const changed: Array<[RoomRecord, RoomRecord]> = [];
			for (const before of owned) {
				const after = this.#rooms.get(before.id);
				if (after) {
					changed.push([after, before]);
				}
			}
			return [prev, changed];
		});
	}

	create(input: UserCreate): UserRecord {
		if (input === null || typeof input !== 'object') {
			throw new ValidationError('', 'a user must be an object');
		}
		const extra = unknownKey(input, CREATE_KEYS);
		if (extra !== undefined) {
			throw new ValidationError(extra, `unknown user field ${extra}`);
		}
		const extension = checkNumber('extension', input.extension);
		const displayName = input.displayName === undefined ? '' : checkText('displayName', input.displayName, 0);
		let ha1: { md5: string; sha256: string };
		if ('password' in input && 'ha1' in input) {
			throw new ValidationError('password', 'give either password or ha1, not both');
		}
		if ('ha1' in input) {
			const h = input.ha1 as unknown;
			if (h === null || typeof h !== 'object' || unknownKey(h, ['md5', 'sha256']) !== undefined) {
				throw new ValidationError('ha1', 'ha1 must be { md5, sha256 }');
			}
			const { md5, sha256 } = h as Record<string, unknown>;
			if (typeof md5 !== 'string' || !/^[0-9a-fA-F]{32}$/.test(md5)) {
				throw new ValidationError('ha1.md5', 'ha1.md5 must be 32 hex digits');
			}
			if (typeof sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha256)) {
				throw new ValidationError('ha1.sha256', 'ha1.sha256 must be 64 hex digits');
			}
			ha1 = { md5: md5.toLowerCase(), sha256: sha256.toLowerCase() };
		} else {
			ha1 = ha1ForAllAlgorithms(extension, this.realm, checkPassword(input.password));
		}
		const t = this.#ctx.now();
		const row = { extension, display_name: displayName, realm: this.realm, ha1_md5: ha1.md5, ha1_sha256: ha1.sha256, created_at: t, updated_at: t };
		let user: UserRecord;
		try {
			user = this.#createTx.immediate(row);
		} catch (error) {
			if (isConstraint(error, 'users.extension')) {
				throw new ExtensionTakenError(extension, 'user');
			}
			if (isConstraint(error, 'user extension is a room number')) {
				throw new ExtensionTakenError(extension, 'room');
			}
			throw error;
		}
		this.#ctx.emit('usercreated', user);
		return user;
	}

	get(extension: string): UserRecord | undefined {
		const row = this.#byExtension.get(extension);
		return row && toRecord(row);
	}

	/** Every user, by extension. */
	list(): UserRecord[] {
		return this.#all.all().map(toRecord);
	}

	/** Changes the display name and/or the password (new HA1 hashes for the store's realm). */
	update(extension: string, patch: UserPatch): UserRecord {
		if (patch === null || typeof patch !== 'object') {
			throw new ValidationError('', 'a user change must be an object');
		}
		const extra = unknownKey(patch, PATCH_KEYS);
		if (extra !== undefined) {
			throw new ValidationError(extra, extra === 'extension' ? 'the extension cannot be changed (its HA1 hashes depend on it): delete and create the user' : `unknown user field ${extra}`);
		}
		if (Object.hasOwn(patch, 'displayName')) {
			checkText('displayName', patch.displayName, 0);
		}
		if (Object.hasOwn(patch, 'password')) {
			checkPassword(patch.password);
		}
		if (Object.keys(patch).length === 0) {
			return this.#mustGet(extension);
		}
		const [user, prev] = this.#updateTx.immediate(extension, patch);
		this.#ctx.emit('userupdated', user, prev);
		return user;
	}

	/** Deletes the user; rooms it owned keep existing without an owner (roomupdated for each). */
	delete(extension: string): UserRecord {
		const [user, rooms] = this.#deleteTx.immediate(extension);
		this.#ctx.emit('userdeleted', user);
		for (const [room, prev] of rooms) {
			this.#ctx.emit('roomupdated', room, prev);
		}
		return user;
	}

	#mustGet(extension: string): UserRecord {
		const user = this.get(extension);
		if (!user) {
			throw new UserNotFoundError(extension);
		}
		return user;
	}
}

function toRecord(row: UserRow): UserRecord {
	return deepFreeze<UserRecord>({
		id: row.id,
		extension: row.extension,
		displayName: row.display_name,
		realm: row.realm,
		ha1: { md5: row.ha1_md5, sha256: row.ha1_sha256 },
		createdAt: new Date(row.created_at),
		updatedAt: new Date(row.updated_at),
	});
}
