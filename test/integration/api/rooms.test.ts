import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, TOKEN, type TestApi } from './helpers.js';

describe('api: rooms', () => {
	let api: TestApi;
	beforeEach(async () => {
		api = await startApi();
	});
	afterEach(() => api.close());

	describe('CRUD', () => {
		it('POST /rooms creates a room: 201, Location, defaults, PIN generated and masked', async () => {
			const r = await api.call('POST', '/rooms', { number: '1000', name: 'Sales' });
			assert.equal(r.status, 201);
			assert.equal(r.headers.get('location'), '/api/v1/rooms/1000');
			assert.deepEqual(
				{ ...r.body, createdAt: undefined, updatedAt: undefined },
				{
					number: '1000',
					name: 'Sales',
					language: 'en',
					sampleRate: 16000,
					accessMode: 'none',
					accessControl: false,
					pin: '****',
					pinLength: null,
					whitelist: [],
					maxParticipants: null,
					musicOnHold: true,
					announceNames: false,
					owner: null,
					createdAt: undefined,
					updatedAt: undefined,
				},
			);
			assert.ok(!Number.isNaN(Date.parse(r.body.createdAt)));
			assert.match(api.store.rooms.getByNumber('1000')?.pin ?? '', /^[0-9]{4,6}$/);
		});

		it('takes every field; ?revealPin=true shows the PIN in the answer', async () => {
			await api.call('POST', '/users', { extension: '201', password: 'pw' });
			const body = {
				number: '1001',
				name: 'Vorstand',
				language: 'de',
				sampleRate: 48000,
				accessMode: 'pin',
				pin: '13579',
				pinLength: 5,
				whitelist: ['+4930123'],
				maxParticipants: 10,
				musicOnHold: false,
				announceNames: true,
				owner: '201',
			};
			const r = await api.call('POST', '/rooms?revealPin=true', body);
			assert.equal(r.status, 201);
			for (const [k, v] of Object.entries(body)) {
				assert.deepEqual(r.body[k], v, k);
			}
			assert.equal(r.body.accessControl, true);
		});

		it('GET /rooms lists rooms by number, PINs masked unless revealed', async () => {
			await api.call('POST', '/rooms', { number: '2', name: 'b', pin: '2222' });
			await api.call('POST', '/rooms', { number: '1', name: 'a', pin: '1111', accessMode: 'whitelist', whitelist: ['5'] });
			const r = await api.call('GET', '/rooms');
			assert.equal(r.status, 200);
			assert.deepEqual(
				r.body.rooms.map((x: { number: string; pin: string; accessControl: boolean }) => [x.number, x.pin, x.accessControl]),
				[
					['1', '****', true],
					['2', '****', false],
				],
			);
			const revealed = await api.call('GET', '/rooms?revealPin=true');
			assert.deepEqual(
				revealed.body.rooms.map((x: { pin: string }) => x.pin),
				['1111', '2222'],
			);
		});

		it('GET /rooms/:number masks the PIN unless ?revealPin=true', async () => {
			await api.call('POST', '/rooms', { number: '1000', name: 'a', pin: '8642', accessMode: 'pin' });
			const masked = await api.call('GET', '/rooms/1000');
			assert.equal(masked.status, 200);
			assert.equal(masked.body.pin, '****');
			assert.ok(!JSON.stringify(masked.body).includes('8642'));
			assert.equal((await api.call('GET', '/rooms/1000?revealPin=false')).body.pin, '****');
			const shown = await api.call('GET', '/rooms/1000?revealPin=true');
			assert.equal(shown.body.pin, '8642');
			assert.equal(shown.body.accessControl, true);
		});

		it('PATCH /rooms/:number changes what is given; access control shows in the status', async () => {
			await api.call('POST', '/rooms', { number: '1000', name: 'a', maxParticipants: 5 });
			const r = await api.call('PATCH', '/rooms/1000?revealPin=true', { accessMode: 'pin', pin: '97531', name: 'A' });
			assert.equal(r.status, 200);
			assert.equal(r.body.accessControl, true);
			assert.equal(r.body.pin, '97531');
			assert.equal(r.body.name, 'A');
			assert.equal(r.body.maxParticipants, 5);
			const off = await api.call('PATCH', '/rooms/1000', { accessMode: 'none', maxParticipants: null });
			assert.equal(off.body.accessControl, false);
			assert.equal(off.body.maxParticipants, null);
			assert.equal(off.body.pin, '****');
		});

		it('PATCH renumbers a room', async () => {
			await api.call('POST', '/rooms', { number: '1000', name: 'a' });
			const r = await api.call('PATCH', '/rooms/1000', { number: '1009' });
			assert.equal(r.body.number, '1009');
			assert.equal((await api.call('GET', '/rooms/1000')).status, 404);
			assert.equal((await api.call('GET', '/rooms/1009')).status, 200);
		});

		it('POST /rooms/:number/pin generates a new PIN at the room\'s length', async () => {
			await api.call('POST', '/rooms', { number: '1000', name: 'a', pinLength: 8, pin: '12121212' });
			const masked = await api.call('POST', '/rooms/1000/pin');
			assert.equal(masked.status, 200);
			assert.equal(masked.body.pin, '****');
			const shown = await api.call('POST', '/rooms/1000/pin?revealPin=true');
			assert.match(shown.body.pin, /^[0-9]{8}$/);
			assert.notEqual(shown.body.pin, '12121212');
			assert.equal(api.store.rooms.getByNumber('1000')?.pin, shown.body.pin);
		});

		it('whitelist entries are added and removed one at a time', async () => {
			await api.call('POST', '/rooms', { number: '1000', name: 'a', accessMode: 'whitelist', whitelist: ['+491'] });
			const added = await api.call('POST', '/rooms/1000/whitelist', { caller: '+4930555' });
			assert.equal(added.status, 200);
			assert.deepEqual(added.body.whitelist, ['+491', '+4930555']);
			const removed = await api.call('DELETE', `/rooms/1000/whitelist/${encodeURIComponent('+491')}`);
			assert.equal(removed.status, 200);
			assert.deepEqual(removed.body.whitelist, ['+4930555']);
			const again = await api.call('DELETE', '/rooms/1000/whitelist/491');
			assert.equal(again.status, 404);
			assert.equal(again.body.error.code, 'WHITELIST_ENTRY_NOT_FOUND');
			const bad = await api.call('POST', '/rooms/1000/whitelist', { caller: 'anonymous' });
			assert.equal(bad.status, 400);
			assert.equal(bad.body.error.field, 'caller');
		});

		it('DELETE /rooms/:number: 204, then 404', async () => {
			await api.call('POST', '/rooms', { number: '1000', name: 'a' });
			const r = await api.call('DELETE', '/rooms/1000');
			assert.equal(r.status, 204);
			assert.equal(r.body, undefined);
			const again = await api.call('DELETE', '/rooms/1000');
			assert.equal(again.status, 404);
			assert.equal(again.body.error.code, 'ROOM_NOT_FOUND');
		});

		it('changes made over the API reach store listeners (the live registry follows)', async () => {
			const seen: string[] = [];
			api.store.on('roomcreated', (r) => seen.push(`created ${r.number}`));
			api.store.on('roomupdated', (r) => seen.push(`updated ${r.number} ${r.maxParticipants}`));
			api.store.on('roomdeleted', (r) => seen.push(`deleted ${r.number}`));
			await api.call('POST', '/rooms', { number: '1000', name: 'a' });
			await api.call('PATCH', '/rooms/1000', { maxParticipants: 3 });
			await api.call('DELETE', '/rooms/1000');
			assert.deepEqual(seen, ['created 1000', 'updated 1000 3', 'deleted 1000']);
		});
	});

	describe('400 with a reason naming the field', () => {
		const cases: Array<[string, unknown, string, string, RegExp]> = [
			['a missing name', { number: '1' }, 'INVALID_INPUT', 'name', /name is required/],
			['a missing number', { name: 'x' }, 'INVALID_INPUT', 'number', /number is required/],
			['an unknown field', { number: '1', name: 'x', colour: 'red' }, 'INVALID_INPUT', 'colour', /unknown field colour/],
			['a PIN with letters', { number: '1', name: 'x', pin: '12a4' }, 'INVALID_INPUT', 'pin', /pin must be digits only/],
			['an empty PIN', { number: '1', name: 'x', pin: '' }, 'INVALID_INPUT', 'pin', /pin/],
			['a numeric PIN', { number: '1', name: 'x', pin: 1234 }, 'INVALID_INPUT', 'pin', /pin must be string/],
			['a PIN of the wrong length', { number: '1', name: 'x', pinLength: 6, pin: '1234' }, 'PIN_INVALID', 'pin', /exactly 6 digits/],
			['a pinLength of 3', { number: '1', name: 'x', pinLength: 3 }, 'INVALID_INPUT', 'pinLength', /pinLength must be >= 4/],
			['a pinLength of 11', { number: '1', name: 'x', pinLength: 11 }, 'INVALID_INPUT', 'pinLength', /pinLength must be <= 10/],
			['a bad whitelist entry', { number: '1', name: 'x', whitelist: ['+491', '030-1'] }, 'INVALID_INPUT', 'whitelist[1]', /whitelist\[1\] must be a caller number/],
			['a cap of 0', { number: '1', name: 'x', maxParticipants: 0 }, 'INVALID_INPUT', 'maxParticipants', /maxParticipants must be >= 1/],
			['a cap as a string', { number: '1', name: 'x', maxParticipants: '10' }, 'INVALID_INPUT', 'maxParticipants', /maxParticipants must be integer or null/],
			['a sample rate of 44100', { number: '1', name: 'x', sampleRate: 44100 }, 'INVALID_INPUT', 'sampleRate', /sampleRate must be one of 8000, 16000, 48000/],
			['a sample rate as a string', { number: '1', name: 'x', sampleRate: '8000' }, 'INVALID_INPUT', 'sampleRate', /sampleRate must be integer/],
			['a language fr', { number: '1', name: 'x', language: 'fr' }, 'INVALID_INPUT', 'language', /language must be one of "en", "de", "ru", "it"/],
			['an access mode password', { number: '1', name: 'x', accessMode: 'password' }, 'INVALID_INPUT', 'accessMode', /accessMode must be one of "none", "pin", "whitelist"/],
			['a number with a space', { number: '1 0', name: 'x' }, 'INVALID_INPUT', 'number', /number must be 1-32 characters/],
			['a name with a control character', { number: '1', name: 'a\u0000b' }, 'INVALID_INPUT', 'name', /name must not contain control characters/],
			['musicOnHold as a string', { number: '1', name: 'x', musicOnHold: 'true' }, 'INVALID_INPUT', 'musicOnHold', /musicOnHold must be boolean/],
			['an unknown owner', { number: '1', name: 'x', owner: '555' }, 'OWNER_UNKNOWN', 'owner', /555 is not a known user/],
		];
		for (const [title, body, code, field, reason] of cases) {
			it(`POST /rooms with ${title}`, async () => {
				const r = await api.call('POST', '/rooms', body);
				assert.equal(r.status, 400, JSON.stringify(r.body));
				assert.equal(r.body.error.code, code);
				assert.equal(r.body.error.field, field);
				assert.match(r.body.error.message, reason);
				assert.equal(api.store.rooms.list().length, 0);
			});
		}

		it('a body that is not an object, or not JSON', async () => {
			const arr = await api.call('POST', '/rooms', [1, 2]);
			assert.equal(arr.status, 400);
			assert.match(arr.body.error.message, /body must be object/);
			const bad = await api.raw('POST', '/rooms', { headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{"number": "1",' });
			assert.equal(bad.status, 400);
			assert.equal(bad.body.error.code, 'INVALID_JSON');
			const empty = await api.call('POST', '/rooms', undefined, { 'content-type': 'application/json' });
			assert.equal(empty.status, 400);
			assert.match(empty.body.error.message, /body must be object/);
		});

		it('415 for a body that is not JSON', async () => {
			const r = await api.call('POST', '/rooms', undefined, { 'content-type': 'text/plain' });
			assert.equal(r.status, 415);
			assert.equal(r.body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
		});

		it('PATCH: nothing to change, unknown fields, PIN against the room\'s length', async () => {
			await api.call('POST', '/rooms', { number: '1000', name: 'a', pinLength: 4, pin: '1357' });
			const empty = await api.call('PATCH', '/rooms/1000', {});
			assert.equal(empty.status, 400);
			assert.match(empty.body.error.message, /at least one field/);
			const unknown = await api.call('PATCH', '/rooms/1000', { id: 5 });
			assert.equal(unknown.status, 400);
			assert.equal(unknown.body.error.field, 'id');
			const pin = await api.call('PATCH', '/rooms/1000', { pin: '123456' });
			assert.equal(pin.status, 400);
			assert.equal(pin.body.error.code, 'PIN_INVALID');
			assert.equal(api.store.rooms.getByNumber('1000')?.pin, '1357');
		});

		it('bad path and query parameters', async () => {
			const p = await api.call('GET', '/rooms/a%20b');
			assert.equal(p.status, 400);
			assert.equal(p.body.error.field, 'number');
			assert.match(p.body.error.message, /path parameter number/);
			const q = await api.call('GET', '/rooms?revealPin=yes');
			assert.equal(q.status, 400);
			assert.equal(q.body.error.field, 'revealPin');
			const u = await api.call('GET', '/rooms?limit=3');
			assert.equal(u.status, 400);
			assert.match(u.body.error.message, /unknown query parameter limit/);
		});

		it('413 for a huge body', async () => {
			const r = await api.call('POST', '/rooms', { number: '1', name: 'x', whitelist: Array.from({ length: 20000 }, () => '+4930123456') });
			assert.equal(r.status, 413);
			assert.equal(r.body.error.code, 'BODY_TOO_LARGE');
		});
	});

	describe('404 and 409', () => {
		it('404 for unknown rooms and routes', async () => {
			for (const [method, path, body] of [
				['GET', '/rooms/777', undefined],
				['PATCH', '/rooms/777', { name: 'x' }],
				['DELETE', '/rooms/777', undefined],
				['POST', '/rooms/777/pin', undefined],
				['POST', '/rooms/777/whitelist', { caller: '1' }],
			] as const) {
				const r = await api.call(method, path, body);
				assert.equal(r.status, 404, `${method} ${path}`);
				assert.equal(r.body.error.code, 'ROOM_NOT_FOUND');
				assert.match(r.body.error.message, /777/);
			}
			const route = await api.call('GET', '/nothing-here');
			assert.equal(route.status, 404);
			assert.equal(route.body.error.code, 'NOT_FOUND');
		});

		it('409 ROOM_NUMBER_TAKEN for a second room with the number, or a user\'s extension', async () => {
			await api.call('POST', '/rooms', { number: '1000', name: 'a' });
			await api.call('POST', '/users', { extension: '201', password: 'pw' });
			const dup = await api.call('POST', '/rooms', { number: '1000', name: 'b' });
			assert.equal(dup.status, 409);
			assert.equal(dup.body.error.code, 'ROOM_NUMBER_TAKEN');
			const ext = await api.call('POST', '/rooms', { number: '201', name: 'b' });
			assert.equal(ext.status, 409);
			assert.equal(ext.body.error.code, 'ROOM_NUMBER_TAKEN');
			assert.match(ext.body.error.message, /extension/);
			await api.call('POST', '/rooms', { number: '1001', name: 'c' });
			const renum = await api.call('PATCH', '/rooms/1001', { number: '1000' });
			assert.equal(renum.status, 409);
			assert.equal(renum.body.error.code, 'ROOM_NUMBER_TAKEN');
		});
	});
});
