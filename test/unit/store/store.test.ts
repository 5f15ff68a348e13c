import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { defaultStorePath, MigrationError, migrate, migrations, openStore, SCHEMA_VERSION, type RoomRecord } from '../../../src/store/index.js';
import { tempDir, tempStore, type TempStore } from './helpers.js';

describe('store: opening and migrations', () => {
	let t: TempStore;
	beforeEach(() => {
		t = tempStore();
	});
	afterEach(() => t.cleanup());

	it('creates the file and its directory, at the newest schema version, in WAL mode', () => {
		assert.ok(existsSync(t.path));
		assert.equal(t.store.schemaVersion, SCHEMA_VERSION);
		assert.equal(SCHEMA_VERSION, migrations.length);
		const db = new Database(t.path, { readonly: true });
		try {
			assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
			const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as Array<{ version: number; name: string }>;
			assert.deepEqual(
				rows.map((r) => r.version),
				migrations.map((m) => m.version),
			);
		} finally {
			db.close();
		}
	});

	it('is idempotent on reopen: nothing is applied twice and no row is added', () => {
		t.store.rooms.create({ number: '100', name: 'Kept' });
		for (let i = 0; i < 3; i++) {
			t.reopen();
		}
		t.store.close();
		const db = new Database(t.path);
		try {
			assert.deepEqual(migrate(db), []);
			const n = (db.prepare('SELECT count(*) AS n FROM schema_migrations').get() as { n: number }).n;
			assert.equal(n, SCHEMA_VERSION);
		} finally {
			db.close();
		}
		t.reopen();
		assert.equal(t.store.rooms.getByNumber('100')?.name, 'Kept');
	});

	it('applies only the migrations a file is missing', () => {
		const dir = tempDir();
		const path = join(dir, 'old.sqlite');
		const db = new Database(path);
		assert.deepEqual(migrate(db, migrations.slice(0, 1)), [1]);
		db.prepare("INSERT INTO users (extension, display_name, realm, ha1_md5, ha1_sha256, created_at, updated_at) VALUES ('200', 'Old', 'confsrv', ?, ?, 0, 0)").run('a'.repeat(32), 'b'.repeat(64));
		db.close();
		const store = openStore(path);
		try {
			assert.equal(store.schemaVersion, SCHEMA_VERSION);
			assert.equal(store.users.get('200')?.displayName, 'Old');
			assert.deepEqual(store.registrations.list(), []);
		} finally {
			store.close();
		}
	});

	it('refuses a file from a newer version', () => {
		t.store.close();
		const db = new Database(t.path);
		db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', 0)").run(SCHEMA_VERSION + 1);
		db.close();
		assert.throws(() => openStore(t.path), (e: unknown) => e instanceof MigrationError && e.code === 'STORE_MIGRATION');
	});

	it('refuses a migration list with a gap', () => {
		const db = new Database(':memory:');
		try {
			assert.throws(() => migrate(db, [{ version: 2, name: 'x', sql: '' }]), MigrationError);
		} finally {
			db.close();
		}
	});

	it('keeps everything over close and reopen of the file', () => {
		const s = t.store;
		s.users.create({ extension: '201', displayName: 'Anna', password: 'pw-anna' });
		s.rooms.create({ number: '300', name: 'Board', accessMode: 'pin', pin: '4711', whitelist: ['+4930123'], maxParticipants: 10, owner: '201', language: 'de', sampleRate: 48000, musicOnHold: false, announceNames: true });
		s.registrations.upsert({ aor: 'sip:201@confsrv', contact: 'sip:201@10.0.0.5:5060', source: { address: '10.0.0.5', port: 5060, transport: 'udp' }, expiresAt: new Date(Date.now() + 3_600_000), callId: 'c1', cseq: 3, q: 0.5 });
		const before = s.rooms.getByNumber('300');
		const s2 = t.reopen();
		assert.deepEqual(s2.rooms.getByNumber('300'), before);
		assert.equal(s2.users.get('201')?.displayName, 'Anna');
		assert.equal(s2.registrations.listByAor('sip:201@confsrv').length, 1);
	});

	it('puts the database under the data directory by default', () => {
		assert.equal(defaultStorePath('/var/lib/confsrv'), join('/var/lib/confsrv', 'confsrv.sqlite'));
	});

	it('works in memory', () => {
		const s = openStore(':memory:');
		try {
			s.rooms.create({ number: '1', name: 'Mem' });
			assert.equal(s.rooms.list().length, 1);
		} finally {
			s.close();
		}
	});

	it('turns foreign keys on: deleting a room drops its whitelist rows', () => {
		t.store.rooms.create({ number: '400', name: 'W', whitelist: ['1', '2'] });
		t.store.rooms.delete('400');
		t.store.close();
		const db = new Database(t.path, { readonly: true });
		try {
			assert.equal((db.prepare('SELECT count(*) AS n FROM room_whitelist').get() as { n: number }).n, 0);
		} finally {
			db.close();
		}
	});
});

describe('store: durability', () => {
	it('loses nothing committed when the process is killed (SIGKILL, no close)', async () => {
		const dir = tempDir();
		const path = join(dir, 'crash.sqlite');
		const storeUrl = pathToFileURL(join(import.meta.dirname, '../../../src/store/index.js')).href;
		const code = `
			import { openStore } from ${JSON.stringify(storeUrl)};
			const s = openStore(${JSON.stringify(path)});
			for (let i = 0; i < 50; i++) s.rooms.create({ number: String(1000 + i), name: 'Room ' + i });
			s.users.create({ extension: '77', password: 'x' });
			s.rooms.update('1000', { name: 'Renamed' });
			process.stdout.write('committed\\n');
			setInterval(() => {}, 1000);
		`;
		const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
		let out = '';
		child.stdout.setEncoding('utf8');
		await new Promise<void>((resolve, reject) => {
			child.stdout.on('data', (d: string) => {
				out += d;
				if (out.includes('committed')) {
					resolve();
				}
			});
			child.once('exit', (c) => reject(new Error(`child exited early with ${c}`)));
		});
		child.kill('SIGKILL');
		await once(child, 'exit');
		assert.ok(existsSync(`${path}-wal`), 'the writes are still in the WAL, never checkpointed by a close');
		const s = openStore(path);
		try {
			assert.equal(s.rooms.list().length, 50);
			assert.equal(s.rooms.getByNumber('1000')?.name, 'Renamed');
			assert.ok(s.users.get('77'));
		} finally {
			s.close();
		}
	});
});

describe('store: change events', () => {
	let t: TempStore;
	beforeEach(() => {
		t = tempStore();
	});
	afterEach(() => t.cleanup());

	it('emits roomcreated, roomupdated (with the previous state) and roomdeleted after commit', () => {
		const seen: string[] = [];
		let updated: [RoomRecord, RoomRecord] | undefined;
		t.store.on('roomcreated', (r) => {
			// Committed: a fresh read sees it.
			assert.ok(t.store.rooms.getByNumber(r.number));
			seen.push(`created ${r.number}`);
		});
		t.store.on('roomupdated', (r, prev) => {
			updated = [r, prev];
			seen.push(`updated ${prev.number}->${r.number}`);
		});
		t.store.on('roomdeleted', (r) => {
			assert.equal(t.store.rooms.getByNumber(r.number), undefined);
			seen.push(`deleted ${r.number}`);
		});
		t.store.rooms.create({ number: '500', name: 'A' });
		t.store.rooms.update('500', { number: '501', maxParticipants: 3 });
		t.store.rooms.delete('501');
		assert.deepEqual(seen, ['created 500', 'updated 500->501', 'deleted 501']);
		assert.equal(updated?.[0].maxParticipants, 3);
		assert.equal(updated?.[1].maxParticipants, null);
	});

	it('emits nothing for a write that fails, and an empty change is no write', () => {
		let events = 0;
		const count = (): void => {
			events++;
		};
		t.store.on('roomcreated', count).on('roomupdated', count);
		t.store.rooms.create({ number: '600', name: 'A' });
		events = 0;
		assert.throws(() => t.store.rooms.create({ number: '600', name: 'B' }));
		assert.throws(() => t.store.rooms.update('600', { pin: 'x' }));
		t.store.rooms.update('600', {});
		assert.equal(events, 0);
	});

	it('a throwing listener does not undo or break the write', () => {
		t.store.on('roomcreated', () => {
			throw new Error('bad listener');
		});
		const r = t.store.rooms.create({ number: '700', name: 'A' });
		assert.equal(t.store.rooms.getByNumber('700')?.id, r.id);
	});

	it('emits user events, and roomupdated for rooms whose owner is deleted', () => {
		const seen: string[] = [];
		t.store.on('usercreated', (u) => seen.push(`usercreated ${u.extension}`));
		t.store.on('userupdated', (u) => seen.push(`userupdated ${u.extension}`));
		t.store.on('userdeleted', (u) => seen.push(`userdeleted ${u.extension}`));
		t.store.on('roomupdated', (r, prev) => seen.push(`roomupdated ${r.number} owner ${String(prev.owner)}->${String(r.owner)}`));
		t.store.users.create({ extension: '10', password: 'x' });
		t.store.rooms.create({ number: '800', name: 'Mine', owner: '10' });
		t.store.users.update('10', { displayName: 'Ten' });
		t.store.users.delete('10');
		assert.deepEqual(seen, ['usercreated 10', 'userupdated 10', 'userdeleted 10', 'roomupdated 800 owner 10->null']);
		assert.equal(t.store.rooms.getByNumber('800')?.owner, null);
	});
});
