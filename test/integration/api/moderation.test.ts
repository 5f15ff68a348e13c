import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeLive, startApi, type TestApi } from './helpers.js';

const JOINED = new Date('2025-03-01T10:00:00.000Z');

describe('api: participants and moderation', () => {
	let api: TestApi;
	let live: FakeLive;
	beforeEach(async () => {
		live = new FakeLive();
		api = await startApi({ live });
		api.store.rooms.create({ number: '1000', name: 'Daily' });
		api.store.rooms.create({ number: '1001', name: 'Idle' });
		live.addRoom('1000', [
			{ id: 'p1', displayName: 'Anna', callerId: '201', joinedAt: JOINED, talking: true, muted: false },
			{ id: 'p2', displayName: '+4930123', callerId: '+4930123', joinedAt: new Date(JOINED.getTime() + 60_000), talking: false, muted: false },
			{ id: 'p3', displayName: 'Anonymous', callerId: null, joinedAt: new Date(JOINED.getTime() + 120_000), talking: false, muted: true },
		]);
	});
	afterEach(() => api.close());

	it('GET /rooms/:number/participants lists name or caller ID, join time, talking, muted', async () => {
		const r = await api.call('GET', '/rooms/1000/participants');
		assert.equal(r.status, 200);
		assert.deepEqual(r.body.participants[0], { id: 'p1', displayName: 'Anna', callerId: '201', joinedAt: '2025-03-01T10:00:00.000Z', talking: true, muted: false });
		assert.deepEqual(
			r.body.participants.map((p: { id: string; callerId: string | null; muted: boolean }) => [p.id, p.callerId, p.muted]),
			[
				['p1', '201', false],
				['p2', '+4930123', false],
				['p3', null, true],
			],
		);
		const idle = await api.call('GET', '/rooms/1001/participants');
		assert.deepEqual(idle.body, { participants: [] });
	});

	it('mutes and unmutes one participant', async () => {
		const m = await api.call('POST', '/rooms/1000/participants/p2/mute');
		assert.equal(m.status, 200);
		assert.deepEqual(m.body, { id: 'p2', muted: true });
		assert.equal(live.rooms.get('1000')?.participants[1]?.muted, true);
		const u = await api.call('POST', '/rooms/1000/participants/p2/unmute', undefined, { 'content-type': 'application/json' });
		assert.equal(u.status, 200);
		assert.deepEqual(u.body, { id: 'p2', muted: false });
		assert.equal(live.rooms.get('1000')?.participants[1]?.muted, false);
	});

	it('kicks one participant', async () => {
		const r = await api.call('DELETE', '/rooms/1000/participants/p1');
		assert.equal(r.status, 204);
		assert.deepEqual(
			live.rooms.get('1000')?.participants.map((p) => p.id),
			['p2', 'p3'],
		);
		const again = await api.call('DELETE', '/rooms/1000/participants/p1');
		assert.equal(again.status, 404);
		assert.equal(again.body.error.code, 'PARTICIPANT_NOT_FOUND');
	});

	it('ends the conference for everyone', async () => {
		const r = await api.call('POST', '/rooms/1000/end');
		assert.equal(r.status, 200);
		assert.deepEqual(r.body, { number: '1000', ended: 3 });
		assert.deepEqual((await api.call('GET', '/rooms/1000/participants')).body, { participants: [] });
	});

	it('locks and unlocks the room', async () => {
		const l = await api.call('POST', '/rooms/1000/lock');
		assert.equal(l.status, 200);
		assert.deepEqual(l.body, { number: '1000', locked: true });
		assert.equal(live.rooms.get('1000')?.locked, true);
		const u = await api.call('POST', '/rooms/1000/unlock');
		assert.deepEqual(u.body, { number: '1000', locked: false });
		assert.equal(live.rooms.get('1000')?.locked, false);
		const notLive = await api.call('POST', '/rooms/1001/lock');
		assert.equal(notLive.status, 404);
		assert.equal(notLive.body.error.code, 'ROOM_NOT_LIVE');
	});

	it('404 for an unknown participant or room; the live side is not asked about unknown rooms', async () => {
		const p = await api.call('POST', '/rooms/1000/participants/nobody/mute');
		assert.equal(p.status, 404);
		assert.equal(p.body.error.code, 'PARTICIPANT_NOT_FOUND');
		assert.match(p.body.error.message, /nobody/);
		live.calls.length = 0;
		for (const [method, path] of [
			['GET', '/rooms/999/participants'],
			['POST', '/rooms/999/participants/p1/mute'],
			['POST', '/rooms/999/participants/p1/unmute'],
			['DELETE', '/rooms/999/participants/p1'],
			['POST', '/rooms/999/end'],
			['POST', '/rooms/999/lock'],
			['POST', '/rooms/999/unlock'],
		] as const) {
			const r = await api.call(method, path);
			assert.equal(r.status, 404, `${method} ${path}`);
			assert.equal(r.body.error.code, 'ROOM_NOT_FOUND');
		}
		assert.deepEqual(live.calls, []);
	});

	it('414 for an overlong participant id, 400 for an unexpected query', async () => {
		const long = await api.call('POST', `/rooms/1000/participants/${'x'.repeat(200)}/mute`);
		assert.equal(long.status, 414);
		assert.equal(long.body.error.code, 'URI_TOO_LONG');
		assert.ok(live.calls.every((c) => !c.startsWith('mute')));
		const q = await api.call('POST', '/rooms/1000/end?force=1');
		assert.equal(q.status, 400);
		assert.equal(live.rooms.get('1000')?.participants.length, 3);
	});

	it('401 without the token: nobody is kicked', async () => {
		const r = await api.raw('DELETE', '/rooms/1000/participants/p1');
		assert.equal(r.status, 401);
		assert.equal(live.rooms.get('1000')?.participants.length, 3);
	});
});

describe('api: moderation without a live view', () => {
	it('503 LIVE_UNAVAILABLE for known rooms, 404 for unknown ones', async () => {
		const api = await startApi();
		try {
			api.store.rooms.create({ number: '1000', name: 'x' });
			const r = await api.call('GET', '/rooms/1000/participants');
			assert.equal(r.status, 503);
			assert.equal(r.body.error.code, 'LIVE_UNAVAILABLE');
			assert.equal((await api.call('POST', '/rooms/1000/end')).status, 503);
			assert.equal((await api.call('POST', '/rooms/999/end')).status, 404);
		} finally {
			await api.close();
		}
	});
});
