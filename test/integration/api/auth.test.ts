import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createApi } from '../../../src/api/index.js';
import { openStore } from '../../../src/store/index.js';
import { startApi, TOKEN, type TestApi } from './helpers.js';

describe('api: authentication', () => {
	let api: TestApi;
	before(async () => {
		api = await startApi();
		api.store.rooms.create({ number: '1000', name: 'Secret', accessMode: 'pin', pin: '2468' });
	});
	after(() => api.close());

	const refused: Array<[string, Record<string, string>]> = [
		['no Authorization header', {}],
		['a wrong token', { authorization: 'Bearer wrong-token-0123456789abcdef' }],
		['a prefix of the token', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
		['the token plus more', { authorization: `Bearer ${TOKEN}x` }],
		['another scheme', { authorization: `Basic ${TOKEN}` }],
		['the bare token', { authorization: TOKEN }],
		['an empty bearer', { authorization: 'Bearer ' }],
	];
	for (const [title, headers] of refused) {
		it(`401 with ${title}`, async () => {
			const r = await api.raw('GET', '/rooms', { headers });
			assert.equal(r.status, 401);
			assert.equal(r.body.error.code, 'UNAUTHORIZED');
			assert.match(r.body.error.message, /Bearer/);
			assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="confsrv"');
			assert.ok(!JSON.stringify(r.body).includes('2468'));
		});
	}

	it('401 before anything else: unknown routes and writes too', async () => {
		assert.equal((await api.raw('GET', '/nope')).status, 401);
		const r = await api.raw('POST', '/rooms', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ number: '1', name: 'x' }) });
		assert.equal(r.status, 401);
		assert.equal(api.store.rooms.getByNumber('1'), undefined);
		assert.equal((await api.raw('DELETE', '/rooms/1000')).status, 401);
		assert.ok(api.store.rooms.getByNumber('1000'));
	});

	it('200 with the token (scheme case-insensitive)', async () => {
		assert.equal((await api.raw('GET', '/rooms', { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
		assert.equal((await api.raw('GET', '/rooms', { headers: { authorization: `bearer ${TOKEN}` } })).status, 200);
	});

	it('refuses to start with a short or missing token', () => {
		const store = openStore(':memory:');
		try {
			assert.throws(() => createApi({ store, token: 'short' }), (e: unknown) => (e as { code?: string }).code === 'CONFIG_INVALID');
			assert.throws(() => createApi({ store, token: '' }), /at least 16/);
		} finally {
			store.close();
		}
	});
});
