import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import {
	generatePin,
	OwnerUnknownError,
	PinInvalidError,
	RoomNotFoundError,
	RoomNumberTakenError,
	ExtensionTakenError,
	ValidationError,
	WhitelistInvalidError,
	type RoomCreate,
} from '../../../src/store/index.js';
import { tempStore, type TempStore } from './helpers.js';

function isCode(code: string, field?: string) {
	return (e: unknown): boolean => {
		assert.ok(e instanceof Error, 'an Error');
		assert.equal((e as { code?: string }).code, code);
		if (field !== undefined) {
			assert.equal((e as { field?: string }).field, field);
		}
		return true;
	};
}

describe('store: rooms', () => {
	let t: TempStore;
	beforeEach(() => {
		t = tempStore();
	});
	afterEach(() => t.cleanup());

	it('creates a room with defaults and a generated 4-6 digit PIN', () => {
		const r = t.store.rooms.create({ number: '1000', name: 'Sales' });
		assert.equal(r.number, '1000');
		assert.equal(r.name, 'Sales');
		assert.equal(r.language, 'en');
		assert.equal(r.sampleRate, 16000);
		assert.equal(r.accessMode, 'none');
		assert.match(r.pin, /^[0-9]{4,6}$/);
		assert.equal(r.pinLength, null);
		assert.deepEqual(r.whitelist, []);
		assert.equal(r.maxParticipants, null);
		assert.equal(r.musicOnHold, true);
		assert.equal(r.announceNames, false);
		assert.equal(r.owner, null);
		assert.ok(r.createdAt instanceof Date);
		assert.deepEqual(t.store.rooms.getByNumber('1000'), r);
		assert.deepEqual(t.store.rooms.get(r.id), r);
		assert.ok(Object.isFrozen(r) && Object.isFrozen(r.whitelist));
	});

	it('takes every setting given', () => {
		t.store.users.create({ extension: '201', password: 'pw' });
		const input: RoomCreate = {
			number: '1001',
			name: 'Vorstand',
			language: 'de',
			sampleRate: 8000,
			accessMode: 'whitelist',
			pin: '0042',
			pinLength: 4,
			whitelist: ['+49301234', '0301234'],
			maxParticipants: 10,
			musicOnHold: false,
			announceNames: true,
			owner: '201',
		};
		const r = t.store.rooms.create(input);
		const { number, name, language, sampleRate, accessMode, pin, pinLength, whitelist, maxParticipants, musicOnHold, announceNames, owner } = r;
		assert.deepEqual({ number, name, language, sampleRate, accessMode, pin, pinLength, whitelist, maxParticipants, musicOnHold, announceNames, owner }, input);
	});

	it('uses the store default sample rate', () => {
		const s = t.reopen({ defaultSampleRate: 48000 });
		assert.equal(s.rooms.create({ number: '1', name: 'x' }).sampleRate, 48000);
	});

	it('lists rooms by number with their whitelists', () => {
		t.store.rooms.create({ number: '3', name: 'c', whitelist: ['3', '33'] });
		t.store.rooms.create({ number: '1', name: 'a' });
		t.store.rooms.create({ number: '2', name: 'b', whitelist: ['2'] });
		const list = t.store.rooms.list();
		assert.deepEqual(
			list.map((r) => [r.number, r.whitelist]),
			[
				['1', []],
				['2', ['2']],
				['3', ['3', '33']],
			],
		);
	});

	describe('PIN', () => {
		it('generates PINs of the room\'s required length', () => {
			for (let len = 4; len <= 10; len++) {
				const r = t.store.rooms.create({ number: `p${len}`, name: 'x', pinLength: len });
				assert.match(r.pin, new RegExp(`^[0-9]{${len}}$`));
			}
		});

		it('generatePin: digits only, 4-6 by default, never all one digit or a plain run', () => {
			const lengths = new Set<number>();
			for (let i = 0; i < 2000; i++) {
				const pin = generatePin();
				assert.match(pin, /^[0-9]{4,6}$/);
				lengths.add(pin.length);
				assert.ok(!/^(\d)\1+$/.test(pin), pin);
				assert.ok(!['1234', '12345', '123456', '4321', '0123', '9876'].includes(pin), pin);
			}
			assert.deepEqual([...lengths].sort(), [4, 5, 6]);
			assert.equal(generatePin(10).length, 10);
		});

		it('accepts any digits-only PIN of at least one digit when no length is required', () => {
			for (const pin of ['0', '7', '000000', '12345678901234567890']) {
				assert.equal(t.store.rooms.create({ number: `n${pin}`, name: 'x', pin }).pin, pin);
			}
		});

		it('refuses PINs that are not digits only', () => {
			for (const pin of ['', 'abc', '12a4', '12 34', ' 1234', '+1234', '12.3', '１２３４', '-1']) {
				assert.throws(() => t.store.rooms.create({ number: '9', name: 'x', pin }), PinInvalidError, JSON.stringify(pin));
			}
			assert.throws(() => t.store.rooms.create({ number: '9', name: 'x', pin: 1234 as unknown as string }), isCode('PIN_INVALID', 'pin'));
			assert.equal(t.store.rooms.list().length, 0);
		});

		it('enforces the required length (4-10)', () => {
			assert.throws(() => t.store.rooms.create({ number: '9', name: 'x', pinLength: 4, pin: '123' }), isCode('PIN_INVALID', 'pin'));
			assert.throws(() => t.store.rooms.create({ number: '9', name: 'x', pinLength: 6, pin: '1234567' }), isCode('PIN_INVALID', 'pin'));
			for (const pinLength of [0, 3, 11, 4.5, -4]) {
				assert.throws(() => t.store.rooms.create({ number: '9', name: 'x', pinLength }), isCode('INVALID_INPUT', 'pinLength'), String(pinLength));
			}
			assert.equal(t.store.rooms.create({ number: '9', name: 'x', pinLength: 10, pin: '0123456789' }).pin, '0123456789');
		});

		it('an admin changes the PIN; it must fit the length', () => {
			t.store.rooms.create({ number: '1', name: 'x', pinLength: 5 });
			assert.equal(t.store.rooms.update('1', { pin: '54321' }).pin, '54321');
			assert.throws(() => t.store.rooms.update('1', { pin: '4321' }), PinInvalidError);
			assert.equal(t.store.rooms.getByNumber('1')?.pin, '54321');
		});

		it('a new required length regenerates a PIN that no longer fits, or takes the one given with it', () => {
			t.store.rooms.create({ number: '1', name: 'x', pin: '1234' });
			assert.match(t.store.rooms.update('1', { pinLength: 8 }).pin, /^[0-9]{8}$/);
			assert.equal(t.store.rooms.update('1', { pinLength: 6, pin: '654321' }).pin, '654321');
			assert.equal(t.store.rooms.update('1', { pinLength: null }).pin, '654321');
			assert.equal(t.store.rooms.update('1', { pinLength: 6 }).pin, '654321');
		});

		it('regeneratePin gives a different PIN of the right length', () => {
			const r = t.store.rooms.create({ number: '1', name: 'x', pinLength: 4 });
			const pins = new Set([r.pin]);
			for (let i = 0; i < 20; i++) {
				const prev = t.store.rooms.getByNumber('1')?.pin;
				const next = t.store.rooms.regeneratePin('1').pin;
				assert.notEqual(next, prev);
				assert.match(next, /^[0-9]{4}$/);
				pins.add(next);
			}
			assert.ok(pins.size > 5);
			assert.throws(() => t.store.rooms.regeneratePin('nope'), RoomNotFoundError);
		});
	});

	describe('whitelist', () => {
		it('takes caller numbers, drops duplicates, keeps order', () => {
			const r = t.store.rooms.create({ number: '1', name: 'x', accessMode: 'whitelist', whitelist: ['+4930123456', '0301234', '5', '+4930123456', '12345678901234567890'] });
			assert.deepEqual(r.whitelist, ['+4930123456', '0301234', '5', '12345678901234567890']);
		});

		it('refuses entries that are not caller numbers, naming the entry', () => {
			const bad = ['', '+', 'abc', '030-123', '030 123', '++49', '49+', '123456789012345678901', 'sip:alice@x', 'anonymous'];
			for (const entry of bad) {
				assert.throws(() => t.store.rooms.create({ number: '1', name: 'x', whitelist: ['+491', entry] }), isCode('WHITELIST_INVALID', 'whitelist[1]'), JSON.stringify(entry));
			}
			assert.throws(() => t.store.rooms.create({ number: '1', name: 'x', whitelist: '123' as unknown as string[] }), WhitelistInvalidError);
			assert.throws(() => t.store.rooms.create({ number: '1', name: 'x', whitelist: [123 as unknown as string] }), WhitelistInvalidError);
			assert.throws(() => t.store.rooms.create({ number: '1', name: 'x', whitelist: Array.from({ length: 1001 }, (_, i) => String(i)) }), WhitelistInvalidError);
		});

		it('replaces the list on update; adds and removes single numbers', () => {
			t.store.rooms.create({ number: '1', name: 'x', whitelist: ['1', '2'] });
			assert.deepEqual(t.store.rooms.update('1', { whitelist: ['3'] }).whitelist, ['3']);
			assert.deepEqual(t.store.rooms.addToWhitelist('1', '+44').whitelist, ['3', '+44']);
			assert.deepEqual(t.store.rooms.addToWhitelist('1', '+44').whitelist, ['3', '+44']);
			assert.deepEqual(t.store.rooms.removeFromWhitelist('1', '3')?.whitelist, ['+44']);
			assert.equal(t.store.rooms.removeFromWhitelist('1', '3'), undefined);
			assert.throws(() => t.store.rooms.addToWhitelist('1', 'x1'), WhitelistInvalidError);
			assert.throws(() => t.store.rooms.addToWhitelist('2', '1'), RoomNotFoundError);
			assert.deepEqual(t.store.rooms.update('1', { whitelist: [] }).whitelist, []);
		});
	});

	describe('field rules', () => {
		const cases: Array<[string, Record<string, unknown>, string]> = [
			['cap 0', { maxParticipants: 0 }, 'maxParticipants'],
			['cap -1', { maxParticipants: -1 }, 'maxParticipants'],
			['cap 1.5', { maxParticipants: 1.5 }, 'maxParticipants'],
			['cap "10"', { maxParticipants: '10' }, 'maxParticipants'],
			['rate 44100', { sampleRate: 44100 }, 'sampleRate'],
			['language fr', { language: 'fr' }, 'language'],
			['mode password', { accessMode: 'password' }, 'accessMode'],
			['number with space', { number: '10 0' }, 'number'],
			['empty number', { number: '' }, 'number'],
			['number too long', { number: '1'.repeat(33) }, 'number'],
			['empty name', { name: '' }, 'name'],
			['name with newline', { name: 'a\nb' }, 'name'],
			['name too long', { name: 'x'.repeat(101) }, 'name'],
			['moh "yes"', { musicOnHold: 'yes' }, 'musicOnHold'],
			['announce 1', { announceNames: 1 }, 'announceNames'],
			['unknown field', { colour: 'red' }, 'colour'],
		];
		for (const [title, patch, field] of cases) {
			it(`refuses ${title} (field ${field})`, () => {
				const input = { number: '1', name: 'x', ...patch } as unknown as RoomCreate;
				assert.throws(() => t.store.rooms.create(input), (e: unknown) => e instanceof ValidationError && e.field === field);
			});
		}

		it('a cap of N (>= 1) or null for unlimited', () => {
			assert.equal(t.store.rooms.create({ number: '1', name: 'x', maxParticipants: 1 }).maxParticipants, 1);
			assert.equal(t.store.rooms.update('1', { maxParticipants: 10 }).maxParticipants, 10);
			assert.equal(t.store.rooms.update('1', { maxParticipants: null }).maxParticipants, null);
		});

		it('requires number and name', () => {
			assert.throws(() => t.store.rooms.create({ name: 'x' } as RoomCreate), isCode('INVALID_INPUT', 'number'));
			assert.throws(() => t.store.rooms.create({ number: '1' } as RoomCreate), isCode('INVALID_INPUT', 'name'));
		});
	});

	describe('numbers are unique across rooms and users\' extensions', () => {
		it('refuses a second room with the same number', () => {
			t.store.rooms.create({ number: '1000', name: 'a' });
			assert.throws(
				() => t.store.rooms.create({ number: '1000', name: 'b' }),
				(e: unknown) => e instanceof RoomNumberTakenError && e.code === 'ROOM_NUMBER_TAKEN' && e.holder === 'room',
			);
		});

		it('refuses a room number that is a user\'s extension', () => {
			t.store.users.create({ extension: '201', password: 'x' });
			assert.throws(() => t.store.rooms.create({ number: '201', name: 'a' }), (e: unknown) => e instanceof RoomNumberTakenError && e.holder === 'user');
		});

		it('refuses a user extension that is a room number', () => {
			t.store.rooms.create({ number: '1000', name: 'a' });
			assert.throws(() => t.store.users.create({ extension: '1000', password: 'x' }), (e: unknown) => e instanceof ExtensionTakenError && e.code === 'EXTENSION_TAKEN' && e.holder === 'room');
		});

		it('refuses renumbering onto another room or an extension; renumbering onto itself is fine', () => {
			t.store.users.create({ extension: '201', password: 'x' });
			t.store.rooms.create({ number: '1000', name: 'a' });
			t.store.rooms.create({ number: '1001', name: 'b' });
			assert.throws(() => t.store.rooms.update('1001', { number: '1000' }), RoomNumberTakenError);
			assert.throws(() => t.store.rooms.update('1001', { number: '201' }), RoomNumberTakenError);
			assert.equal(t.store.rooms.update('1001', { number: '1001', name: 'B' }).name, 'B');
			assert.equal(t.store.rooms.update('1001', { number: '1002' }).number, '1002');
			assert.equal(t.store.rooms.getByNumber('1001'), undefined);
		});

		it('the database itself refuses a clash written around the repositories (triggers, UNIQUE)', () => {
			t.store.users.create({ extension: '201', password: 'x' });
			t.store.rooms.create({ number: '1000', name: 'a' });
			t.store.close();
			const db = new Database(t.path);
			try {
				assert.throws(() => db.prepare("INSERT INTO rooms (number, name, pin, created_at, updated_at) VALUES ('201', 'x', '1', 0, 0)").run(), /room number is a user extension/);
				assert.throws(() => db.prepare("UPDATE rooms SET number = '201'").run(), /room number is a user extension/);
				assert.throws(() => db.prepare("INSERT INTO users (extension, realm, ha1_md5, ha1_sha256, created_at, updated_at) VALUES ('1000', 'r', ?, ?, 0, 0)").run('a'.repeat(32), 'b'.repeat(64)), /user extension is a room number/);
				assert.throws(() => db.prepare("INSERT INTO rooms (number, name, pin, created_at, updated_at) VALUES ('1000', 'x', '1', 0, 0)").run(), /UNIQUE/);
				assert.throws(() => db.prepare("INSERT INTO rooms (number, name, pin, created_at, updated_at) VALUES ('5', 'x', '12a', 0, 0)").run(), /CHECK/);
				assert.throws(() => db.prepare("INSERT INTO rooms (number, name, pin, pin_length, created_at, updated_at) VALUES ('5', 'x', '123', 4, 0, 0)").run(), /CHECK/);
			} finally {
				db.close();
			}
		});
	});

	describe('owner', () => {
		it('is a known user, or null', () => {
			t.store.users.create({ extension: '201', password: 'x' });
			t.store.users.create({ extension: '202', password: 'x' });
			assert.equal(t.store.rooms.create({ number: '1', name: 'x', owner: '201' }).owner, '201');
			assert.equal(t.store.rooms.update('1', { owner: '202' }).owner, '202');
			assert.equal(t.store.rooms.update('1', { owner: null }).owner, null);
			assert.throws(() => t.store.rooms.update('1', { owner: '999' }), OwnerUnknownError);
			assert.throws(() => t.store.rooms.create({ number: '2', name: 'x', owner: '999' }), isCode('OWNER_UNKNOWN', 'owner'));
			assert.equal(t.store.rooms.getByNumber('2'), undefined);
		});

		it('a room outlives its owner', () => {
			t.store.users.create({ extension: '201', password: 'x' });
			t.store.rooms.create({ number: '1', name: 'x', owner: '201' });
			t.store.users.delete('201');
			assert.equal(t.store.rooms.getByNumber('1')?.owner, null);
		});
	});

	it('updates keep what is not given and move updatedAt', async () => {
		const r = t.store.rooms.create({ number: '1', name: 'x', maxParticipants: 5, whitelist: ['1'] });
		await new Promise((res) => setTimeout(res, 5));
		const u = t.store.rooms.update('1', { name: 'y', accessMode: 'pin' });
		assert.equal(u.name, 'y');
		assert.equal(u.accessMode, 'pin');
		assert.equal(u.maxParticipants, 5);
		assert.deepEqual(u.whitelist, ['1']);
		assert.equal(u.pin, r.pin);
		assert.equal(u.createdAt.getTime(), r.createdAt.getTime());
		assert.ok(u.updatedAt.getTime() > r.updatedAt.getTime());
	});

	it('deletes a room and says when there is none', () => {
		const r = t.store.rooms.create({ number: '1', name: 'x', whitelist: ['5'] });
		assert.deepEqual(t.store.rooms.delete('1'), r);
		assert.equal(t.store.rooms.getByNumber('1'), undefined);
		assert.throws(() => t.store.rooms.delete('1'), (e: unknown) => e instanceof RoomNotFoundError && e.code === 'ROOM_NOT_FOUND');
		assert.throws(() => t.store.rooms.update('1', { name: 'z' }), RoomNotFoundError);
		// The number is free again, for a room or a user.
		t.store.users.create({ extension: '1', password: 'x' });
	});
});
