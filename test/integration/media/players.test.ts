import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server } from '../../../src/index.js';
import { MediaClock } from '../../../src/media/clock.js';
import { MediaLeg } from '../../../src/media/leg.js';
import { Prompt } from '../../../src/media/player/prompt.js';
import { RoomPlayer } from '../../../src/media/player/room-player.js';
import { RtpPortAllocator } from '../../../src/media/ports.js';
import { RoomRecorder } from '../../../src/media/recorder/room-recorder.js';
import { parseWav } from '../../../src/media/wav.js';
import { g711Decode } from '../../helpers/g711.js';
import { toneRatio } from '../../helpers/goertzel.js';
import { TestUA } from '../../helpers/test-ua.js';
import { until } from '../../helpers/wait.js';
import { Peer, freeRange } from './udp.js';

/**
 * Prompts and recordings through real sockets: SIP calls from TestUAs into a
 * real server, prompts checked by frequency analysis of what the UA decodes,
 * recordings read back from the WAV files.
 */
describe('players and recorders', () => {
	let server: Server;
	let dir: string;
	const uas: TestUA[] = [];

	before(async () => {
		dir = await mkdtemp(join(tmpdir(), 'confsrv-players-'));
		server = await createServer({ sip: { host: '127.0.0.1', port: 0 }, rooms: [{ name: 'R', number: '1000', sampleRate: 16000 }] });
		await server.start();
	});

	after(async () => {
		for (const ua of uas) {
			ua.close();
		}
		await server.stop();
		await rm(dir, { recursive: true, force: true });
	});

	async function caller(user: string, tone?: number): Promise<TestUA> {
		const ua = await TestUA.create({ user });
		uas.push(ua);
		const res = await ua.call({ host: '127.0.0.1', port: server.sipPort, user: '1000' }, tone === undefined ? {} : { tone });
		assert.equal(res.status, 200);
		return ua;
	}

	function legOf(user: string): MediaLeg {
		const call = server.calls.list().find((c) => c.caller.includes(user));
		assert.ok(call?.leg, `call of ${user}`);
		return call.leg;
	}

	it('a prompt played to one leg is heard by that caller on top of the room, and by nobody else', { timeout: 60_000 }, async () => {
		const a = await caller('pa', 500);
		const b = await caller('pb');
		await until(() => server.rooms.byNumber('1000')!.size === 2, 10_000, 'two in the room');
		const prompt = Prompt.tone(1200, 3000, 8000, 6000);
		const handle = legOf('pb').play(prompt);
		assert.equal(legOf('pb').playing, true);
		await new Promise((r) => setTimeout(r, 300));
		a.resetMedia();
		b.resetMedia();
		await Promise.all([a.waitForAudio(8000, 20_000), b.waitForAudio(8000, 20_000)]);
		const heardB = b.received;
		assert.ok(toneRatio(heardB, 8000, 1200) > 0.2, `b hears the prompt (${toneRatio(heardB, 8000, 1200)})`);
		assert.ok(toneRatio(heardB, 8000, 500) > 0.2, `b still hears a (${toneRatio(heardB, 8000, 500)})`);
		assert.ok(toneRatio(a.received, 8000, 1200) < 0.02, 'a does not hear b’s prompt');
		handle.stop();
		assert.equal(await handle.done, 'stopped');
		// 16 kHz room: the 8 kHz prompt was converted once.
		assert.equal(prompt.conversions, 1);
		await Promise.all([a.bye(), b.bye()]);
		await until(() => server.stats().calls === 0, 10_000, 'calls to end');
	});

	it('a leg recording holds the caller’s tone; a room recording every participant’s and the room player’s', { timeout: 60_000 }, async () => {
		const clock = new MediaClock();
		const a = await caller('ra', 600);
		const b = await caller('rb', 1400);
		const room = server.rooms.byNumber('1000')!;
		await until(() => room.size === 2, 10_000, 'two in the room');
		const player = await RoomPlayer.open(room, clock);
		const recorder = await RoomRecorder.start(room, clock, { path: join(dir, 'room.wav'), maxMs: 2000 });
		try {
			assert.equal(room.size, 2, 'player and recorder are hidden');
			assert.equal(room.participants().length, 2);
			assert.ok(room.participants().every((p) => !p.id.startsWith('player-') && !p.id.startsWith('recorder-')));
			const moh = player.play(Prompt.tone(2200, 1000, 16000, 6000), { loop: true });
			const legRec = legOf('ra').record({ path: join(dir, 'leg.wav'), maxMs: 1000 });
			assert.throws(() => legOf('ra').record({ path: join(dir, 'x.wav') }), /already recording/);
			const legResult = await legRec.done;
			assert.equal(legResult.reason, 'maxMs');
			assert.equal(legResult.durationMs, 1000);
			const legWav = parseWav(await readFile(legResult.path));
			assert.equal(legWav.sampleRate, 16000);
			assert.ok(toneRatio(legWav.samples, 16000, 600, { from: 1600 }) > 0.8, `leg recording is a's tone (${toneRatio(legWav.samples, 16000, 600)})`);
			assert.ok(toneRatio(legWav.samples, 16000, 1400) < 0.02, 'not b');

			const roomResult = await recorder.done;
			assert.equal(roomResult.durationMs, 2000);
			const mix = parseWav(await readFile(roomResult.path)).samples;
			for (const f of [600, 1400, 2200]) {
				const r = toneRatio(mix, 16000, f, { from: 8000 });
				assert.ok(r > 0.15, `room recording holds ${f} Hz (${r.toFixed(3)})`);
			}
			// Both callers hear the room player.
			a.resetMedia();
			b.resetMedia();
			await Promise.all([a.waitForAudio(4000, 20_000), b.waitForAudio(4000, 20_000)]);
			assert.ok(toneRatio(a.received, 8000, 2200) > 0.1 || toneRatio(b.received, 8000, 2200) > 0.1, 'callers hear the room player');
			moh.stop();
			assert.equal(await moh.done, 'stopped');
			await until(() => recorder.closed, 5000, 'recorder left the room by itself');
		} finally {
			await player.close();
			await recorder.close().catch(() => undefined);
			clock.close();
		}
		assert.equal(room.size, 2);
		await Promise.all([a.bye(), b.bye()]);
		await until(() => server.stats().calls === 0 && server.stats().activeRooms === 0, 10_000, 'calls and mixer room to end');
	});
});

describe('a leg in no room', () => {
	it('plays a prompt to the caller (IVR before joining)', { timeout: 30_000 }, async () => {
		const base = await freeRange(4);
		const allocator = new RtpPortAllocator({ min: base, max: base + 3, host: '127.0.0.1' });
		const leg = await MediaLeg.create({ allocator, mixRate: 16000, rtpTimeoutMs: 0 });
		const peer = await Peer.open();
		const clock = new MediaClock();
		try {
			leg.setRemote({ address: '127.0.0.1', port: peer.port, codec: 'PCMU', payloadType: 0 });
			const first = leg.play(Prompt.tone(700, 400, 8000));
			const second = leg.play(Prompt.tone(1700, 400, 16000));
			clock.add(leg);
			assert.equal(await first.done, 'finished');
			assert.equal(await second.done, 'finished');
			await peer.received(45);
			const pcm = g711Decode('PCMU', Buffer.concat(peer.packets.map((p) => p.subarray(12))));
			assert.ok(toneRatio(pcm, 8000, 700, { from: 400, to: 3000 }) > 0.9, `first prompt ${toneRatio(pcm, 8000, 700, { to: 3200 })}`);
			assert.ok(toneRatio(pcm, 8000, 1700, { from: 3600, to: 6000 }) > 0.9, 'then the second');
			assert.ok(toneRatio(pcm, 8000, 700, { from: 6800 }) === 0, 'then silence');
		} finally {
			clock.close();
			leg.close();
			await peer.close();
		}
		assert.equal(allocator.inUse, 0);
		assert.throws(() => leg.play(Prompt.tone(700, 100, 8000)), /closed/);
	});
});
