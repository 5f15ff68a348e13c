import Database from 'better-sqlite3';
import type { StoreEvents } from './types.js';

/** @internal What a repository gets from its Store: lookups and callbacks, not the Store. */
export interface RepoContext {
	readonly db: Database.Database;
	readonly now: () => number;
	/** Emits on the Store (safeEmit); call only after the write has committed. */
	readonly emit: <K extends keyof StoreEvents & string>(event: K, ...args: StoreEvents[K]) => void;
}

/** A SQLite constraint failure (UNIQUE, CHECK, trigger RAISE) whose message contains `text`. */
export function isConstraint(error: unknown, text: string): boolean {
	return error instanceof Database.SqliteError && error.code.startsWith('SQLITE_CONSTRAINT') && error.message.includes(text);
}

/** Throws a ValidationError-like TypeError for keys that are not in `allowed`. */
export function unknownKey(input: object, allowed: readonly string[]): string | undefined {
	return Object.keys(input).find((k) => !allowed.includes(k));
}

export function deepFreeze<T>(o: T): T {
	if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
		Object.freeze(o);
		for (const v of Object.values(o as Record<string, unknown>)) {
			if (!(v instanceof Date)) {
				deepFreeze(v);
			}
		}
	}
	return o;
}
