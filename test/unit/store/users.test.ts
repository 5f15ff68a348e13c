import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ha1ForAllAlgorithms } from '../../../src/sip/auth/index.js';
import { ExtensionTakenError, UserNotFoundError, ValidationError, type UserCreate } from '../../../src/store/index.js';
import { databaseBytes, tempStore, type TempStore } from './helpers.js';

describe('store: users', () => {
	let t: TempStore;
	beforeEach(() => {
		t = tempStore({ realm: 'pbx.example.com' });
	});
	afterEach(() => t.cleanup());

	it('keeps HA1 hashes for the store realm, never the password', () => {
		const u = t.store.users.create({ extension: '201', displayName: 'Anna Schmidt', password: 'Correct-Horse-4711' });
		assert.deepEqual(u.ha1, ha1ForAllAlgorithms('201', 'pbx.example.com', 'Correct-Horse-4711'));
		assert.equal(u.realm, 'pbx.example.com');
		assert.equal(u.displayName, 'Anna Schmidt');
		assert.ok(!('password' in u));
		assert.ok(!JSON.stringify(u).includes('Correct-Horse-4711'));
		assert.deepEqual(t.store.users.get('201'), u);
	});

	it('the password is nowhere in the database files, before or after close; the hashes are', () => {
		const passwords = ['Zebra-Pass-90210', 'Second-Secret-31337', 'Third-Word-777'];
		t.store.users.create({ extension: '201', displayName: 'Marker-Display-Name', password: passwords[0] as string });
		t.store.users.create({ extension: '202', password: passwords[1] as string });
		t.store.users.update('201', { password: passwords[2] as string });
		const check = (): void => {
			const bytes = databaseBytes(t.path);
			// The scan sees what the store wrote …
			assert.ok(bytes.includes(Buffer.from('Marker-Display-Name')), 'display name is in the files');
			assert.ok(bytes.includes(Buffer.from(ha1ForAllAlgorithms('201', 'pbx.example.com', passwords[2] as string).sha256)), 'HA1 is in the files');
			// … and no password, in UTF-8 or UTF-16.
			for (const pw of passwords) {
				assert.ok(!bytes.includes(Buffer.from(pw, 'utf8')), `${pw} (utf8) absent`);
				assert.ok(!bytes.includes(Buffer.from(pw, 'utf16le')), `${pw} (utf16) absent`);
			}
		};
		check();
		t.store.close();
		check();
	});

	it('takes HA1 hashes made elsewhere (a resolved config)', () => {
		const ha1 = ha1ForAllAlgorithms('203', 'pbx.example.com', 'x');
		const u = t.store.users.create({ extension: '203', ha1: { md5: ha1.md5.toUpperCase(), sha256: ha1.sha256 } });
		assert.deepEqual(u.ha1, ha1);
		assert.throws(() => t.store.users.create({ extension: '204', ha1: { md5: 'zz', sha256: ha1.sha256 } }), (e: unknown) => e instanceof ValidationError && e.field === 'ha1.md5');
		assert.throws(() => t.store.users.create({ extension: '204', password: 'x', ha1 } as unknown as UserCreate), ValidationError);
	});

	it('lists by extension; updates display name and password', () => {
		t.store.users.create({ extension: '202', password: 'b' });
		const a = t.store.users.create({ extension: '201', password: 'a' });
		assert.deepEqual(
			t.store.users.list().map((u) => u.extension),
			['201', '202'],
		);
		const renamed = t.store.users.update('201', { displayName: 'Anna' });
		assert.equal(renamed.displayName, 'Anna');
		assert.deepEqual(renamed.ha1, a.ha1);
		const repass = t.store.users.update('201', { password: 'new' });
		assert.deepEqual(repass.ha1, ha1ForAllAlgorithms('201', 'pbx.example.com', 'new'));
		assert.equal(repass.displayName, 'Anna');
	});

	it('a password change after a realm change re-hashes for the new realm', () => {
		t.store.users.create({ extension: '201', password: 'a' });
		const s = t.reopen({ realm: 'other' });
		assert.equal(s.users.get('201')?.realm, 'pbx.example.com');
		assert.equal(s.users.update('201', { password: 'a' }).realm, 'other');
		assert.deepEqual(s.users.get('201')?.ha1, ha1ForAllAlgorithms('201', 'other', 'a'));
	});

	it('refuses duplicates and bad input', () => {
		t.store.users.create({ extension: '201', password: 'a' });
		assert.throws(() => t.store.users.create({ extension: '201', password: 'b' }), (e: unknown) => e instanceof ExtensionTakenError && e.holder === 'user');
		const bad: Array<[Record<string, unknown>, string]> = [
			[{ extension: '2 01', password: 'x' }, 'extension'],
			[{ extension: '', password: 'x' }, 'extension'],
			[{ extension: '205' }, 'password'],
			[{ extension: '205', password: '' }, 'password'],
			[{ extension: '205', password: 'x'.repeat(129) }, 'password'],
			[{ extension: '205', password: 'x', displayName: 'a\u0007' }, 'displayName'],
			[{ extension: '205', password: 'x', email: 'a@b' }, 'email'],
		];
		for (const [input, field] of bad) {
			assert.throws(() => t.store.users.create(input as unknown as UserCreate), (e: unknown) => e instanceof ValidationError && e.field === field, JSON.stringify(input));
		}
		assert.throws(() => t.store.users.update('201', { extension: '209' } as never), (e: unknown) => e instanceof ValidationError && e.field === 'extension');
		assert.throws(() => t.store.users.update('201', { password: '' }), ValidationError);
	});

	it('deletes, and says when there is no such user', () => {
		t.store.users.create({ extension: '201', password: 'a' });
		assert.equal(t.store.users.delete('201').extension, '201');
		assert.equal(t.store.users.get('201'), undefined);
		assert.throws(() => t.store.users.delete('201'), (e: unknown) => e instanceof UserNotFoundError && e.code === 'USER_NOT_FOUND');
		assert.throws(() => t.store.users.update('201', { displayName: 'x' }), UserNotFoundError);
	});
});
