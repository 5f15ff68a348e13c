import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ha1ForAllAlgorithms } from '../../../src/sip/auth/index.js';
import { startApi, type TestApi } from './helpers.js';

describe('api: users', () => {
	let api: TestApi;
	beforeEach(async () => {
		api = await startApi();
	});
	afterEach(() => api.close());

	it('POST /users creates a user; the answer has no password and no hash', async () => {
		const r = await api.call('POST', '/users', { extension: '201', displayName: 'Anna', password: 'Secret-Pass-1' });
		assert.equal(r.status, 201);
		assert.equal(r.headers.get('location'), '/api/v1/users/201');
		assert.deepEqual(Object.keys(r.body).sort(), ['createdAt', 'displayName', 'extension', 'updatedAt']);
		assert.equal(r.body.extension, '201');
		assert.equal(r.body.displayName, 'Anna');
		assert.deepEqual(api.store.users.get('201')?.ha1, ha1ForAllAlgorithms('201', 'test', 'Secret-Pass-1'));
		const got = await api.call('GET', '/users/201');
		assert.equal(got.status, 200);
		assert.deepEqual(got.body, r.body);
		assert.ok(!JSON.stringify(got.body).includes('Secret-Pass-1'));
		assert.ok(!JSON.stringify(got.body).includes(ha1ForAllAlgorithms('201', 'test', 'Secret-Pass-1').md5));
	});

	it('GET /users lists users by extension', async () => {
		await api.call('POST', '/users', { extension: '202', password: 'b' });
		await api.call('POST', '/users', { extension: '201', password: 'a' });
		const r = await api.call('GET', '/users');
		assert.equal(r.status, 200);
		assert.deepEqual(
			r.body.users.map((u: { extension: string; displayName: string }) => [u.extension, u.displayName]),
			[
				['201', ''],
				['202', ''],
			],
		);
	});

	it('PATCH /users/:extension changes the display name and the password', async () => {
		await api.call('POST', '/users', { extension: '201', password: 'old' });
		const r = await api.call('PATCH', '/users/201', { displayName: 'Anna', password: 'new' });
		assert.equal(r.status, 200);
		assert.equal(r.body.displayName, 'Anna');
		assert.deepEqual(api.store.users.get('201')?.ha1, ha1ForAllAlgorithms('201', 'test', 'new'));
		const ext = await api.call('PATCH', '/users/201', { extension: '209' });
		assert.equal(ext.status, 400);
		assert.equal(ext.body.error.field, 'extension');
	});

	it('DELETE /users/:extension: 204, then 404; an owned room loses its owner', async () => {
		await api.call('POST', '/users', { extension: '201', password: 'a' });
		await api.call('POST', '/rooms', { number: '1000', name: 'mine', owner: '201' });
		assert.equal((await api.call('DELETE', '/users/201')).status, 204);
		const again = await api.call('GET', '/users/201');
		assert.equal(again.status, 404);
		assert.equal(again.body.error.code, 'USER_NOT_FOUND');
		assert.equal((await api.call('GET', '/rooms/1000')).body.owner, null);
		assert.equal((await api.call('PATCH', '/users/201', { displayName: 'x' })).status, 404);
		assert.equal((await api.call('DELETE', '/users/201')).status, 404);
	});

	it('400 for bad input, naming the field', async () => {
		const cases: Array<[unknown, string]> = [
			[{ extension: '201' }, 'password'],
			[{ password: 'x' }, 'extension'],
			[{ extension: '201', password: '' }, 'password'],
			[{ extension: '2 01', password: 'x' }, 'extension'],
			[{ extension: '201', password: 'x', ha1: { md5: '0'.repeat(32), sha256: '0'.repeat(64) } }, 'ha1'],
			[{ extension: '201', password: 'x', displayName: 'a\nb' }, 'displayName'],
		];
		for (const [body, field] of cases) {
			const r = await api.call('POST', '/users', body);
			assert.equal(r.status, 400, JSON.stringify(body));
			assert.equal(r.body.error.field, field, JSON.stringify(r.body));
		}
		assert.equal(api.store.users.list().length, 0);
	});

	it('409 EXTENSION_TAKEN for a duplicate or a room number', async () => {
		await api.call('POST', '/users', { extension: '201', password: 'a' });
		await api.call('POST', '/rooms', { number: '1000', name: 'r' });
		const dup = await api.call('POST', '/users', { extension: '201', password: 'b' });
		assert.equal(dup.status, 409);
		assert.equal(dup.body.error.code, 'EXTENSION_TAKEN');
		const room = await api.call('POST', '/users', { extension: '1000', password: 'b' });
		assert.equal(room.status, 409);
		assert.equal(room.body.error.code, 'EXTENSION_TAKEN');
		assert.match(room.body.error.message, /room/);
	});
});
