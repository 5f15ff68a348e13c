/** Temporary database files for store tests: one directory per test, removed after. */
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store, type StoreOptions } from '../../../src/store/index.js';

export interface TempStore {
	dir: string;
	path: string;
	store: Store;
	reopen(options?: StoreOptions): Store;
	cleanup(): void;
}

export function tempDir(): string {
	return mkdtempSync(join(tmpdir(), 'confsrv-store-'));
}

/** A store on a fresh file in a fresh directory (`data/confsrv.sqlite` below it: the directory is created). */
export function tempStore(options: StoreOptions = {}): TempStore {
	const dir = tempDir();
	const path = join(dir, 'data', 'confsrv.sqlite');
	const t: TempStore = {
		dir,
		path,
		store: openStore(path, options),
		reopen(opts = options) {
			t.store.close();
			t.store = openStore(path, opts);
			return t.store;
		},
		cleanup() {
			t.store.close();
			rmSync(dir, { recursive: true, force: true });
		},
	};
	return t;
}

/** The database file and its WAL and shared-memory files, concatenated (whatever exists). */
export function databaseBytes(path: string): Buffer {
	return Buffer.concat([path, `${path}-wal`, `${path}-shm`].filter((p) => existsSync(p)).map((p) => readFileSync(p)));
}
