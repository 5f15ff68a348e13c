import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from '../../../src/index.js';
import { TestUA } from '../../helpers/test-ua.js';
import { until } from '../../helpers/wait.js';
import { toneRatio } from '../../helpers/goertzel.js';

/**
 * Three callers in one room, each sending its own tone: everyone hears the
 * other two and never themselves (N-1), then everything is released.
 */
async function startServer(extra: Record<string, unknown> = {}): Promise<Server> {
	const server = await createServer({
		sip: { host: '127.0.0.1', port: 0 },
		rooms: [
			{ name: 'Test room', number: '1000' },
			{ name: 'Other room', number: '2000' },
		],
		...extra,
	});
	await server.start();
	return server;
}


test('three callers: each hears the other two tones and not its own; all released after BYE', { timeout: 60_000 }, async () => {
	const server = await startServer();
	const tones = [400, 800, 1600];
	const uas = await Promise.all(tones.map((_, i) => TestUA.create({ user: `caller${i}` })));
	try {
		for (let i = 0; i < uas.length; i++) {
			const res = await uas[i]!.call({ host: '127.0.0.1', port: server.sipPort, user: '1000' }, { tone: tones[i]! });
			assert.equal(res.status, 200, `caller ${i} answered`);
			assert.equal(res.codec, 'PCMU');
		}
		await until(() => server.rooms.byNumber('1000')!.size === 3, 10_000, 'three participants');
		// Let the mix settle, then analyse only what arrived after it.
		await new Promise((r) => setTimeout(r, 500));
		for (const ua of uas) {
			ua.resetMedia();
		}
		await Promise.all(uas.map((ua) => ua.waitForAudio(8000 * 2, 20_000)));
		for (let i = 0; i < uas.length; i++) {
			const heard = uas[i]!.received;
			for (let j = 0; j < tones.length; j++) {
				const ratio = toneRatio(heard, 8000, tones[j]!);
				if (i === j) {
					assert.ok(ratio < 0.02, `caller ${i} must not hear its own ${tones[j]} Hz (ratio ${ratio.toFixed(3)})`);
				} else {
					assert.ok(ratio > 0.2, `caller ${i} must hear ${tones[j]} Hz (ratio ${ratio.toFixed(3)})`);
				}
			}
		}
		await Promise.all(uas.map((ua) => ua.bye()));
		await until(() => server.stats().calls === 0, 10_000, 'calls to end');
		const stats = server.stats();
		assert.equal(stats.calls, 0);
		assert.equal(stats.legs, 0);
		assert.equal(stats.dialogs, 0);
		assert.equal(stats.participants, 0);
		assert.equal(stats.activeRooms, 0);
		assert.equal(stats.rtpPortsInUse, 0, 'every RTP socket closed');
	} finally {
		for (const ua of uas) {
			ua.close();
		}
		await server.stop();
	}
});

test('a room of one hears silence; rooms are isolated from each other', { timeout: 30_000 }, async () => {
	const server = await startServer();
	const a = await TestUA.create({ user: 'a' });
	const b = await TestUA.create({ user: 'b' });
	try {
		assert.equal((await a.call({ host: '127.0.0.1', port: server.sipPort, user: '1000' }, { tone: 500 })).status, 200);
		assert.equal((await b.call({ host: '127.0.0.1', port: server.sipPort, user: '2000' }, { tone: 1000 })).status, 200);
		await new Promise((r) => setTimeout(r, 300));
		a.resetMedia();
		b.resetMedia();
		const heardA = await a.waitForAudio(8000, 10_000);
		const heardB = await b.waitForAudio(8000, 10_000);
		// Continuous RTP arrives, but it carries silence (nobody else in the room).
		for (const heard of [heardA, heardB]) {
			let peak = 0;
			for (const s of heard) {
				peak = Math.max(peak, Math.abs(s));
			}
			assert.ok(peak < 50, `silence expected, peak ${peak}`);
		}
		await a.bye();
		await b.bye();
	} finally {
		a.close();
		b.close();
		await server.stop();
	}
});

test('INVITE without SDP: offer in our 200, answer in the ACK, audio flows', { timeout: 30_000 }, async () => {
	const server = await startServer();
	const a = await TestUA.create({ user: 'late1' });
	const b = await TestUA.create({ user: 'late2' });
	try {
		const ra = await a.call({ host: '127.0.0.1', port: server.sipPort, user: '1000' }, { withSdp: false, tone: 700, codecs: ['PCMA'] });
		assert.equal(ra.status, 200);
		assert.ok(ra.remoteSdp, 'the 200 carries an offer');
		assert.equal(ra.codec, 'PCMA');
		const rb = await b.call({ host: '127.0.0.1', port: server.sipPort, user: '1000' }, { tone: 1300 });
		assert.equal(rb.status, 200);
		await new Promise((r) => setTimeout(r, 300));
		b.resetMedia();
		a.resetMedia();
		const heardB = await b.waitForAudio(8000, 10_000);
		const heardA = await a.waitForAudio(8000, 10_000);
		assert.ok(toneRatio(heardB, 8000, 700) > 0.5, 'b hears the late-offer caller');
		assert.ok(toneRatio(heardA, 8000, 1300) > 0.5, 'the late-offer caller hears b (PCMA)');
		await a.bye();
		await b.bye();
	} finally {
		a.close();
		b.close();
		await server.stop();
	}
});

test('symmetric RTP: media goes to where the caller\'s RTP comes from, not the SDP port', { timeout: 30_000 }, async () => {
	const server = await startServer();
	const a = await TestUA.create({ user: 'nat' });
	const b = await TestUA.create({ user: 'plain' });
	try {
		assert.equal((await a.call({ host: '127.0.0.1', port: server.sipPort, user: '1000' }, { tone: 600, rtpFromPort: 'other' })).status, 200);
		assert.equal((await b.call({ host: '127.0.0.1', port: server.sipPort, user: '1000' }, { tone: 1200 })).status, 200);
		await new Promise((r) => setTimeout(r, 300));
		a.resetMedia();
		const heard = await a.waitForAudio(8000, 10_000);
		assert.ok(toneRatio(heard, 8000, 1200) > 0.5);
		assert.ok(a.packets.length > 0 && a.packets.every((p) => p.socket === 'other'), 'all RTP went to the latched source port');
		await a.bye();
		await b.bye();
	} finally {
		a.close();
		b.close();
		await server.stop();
	}
});

test('unknown room 404, no common codec 488, OPTIONS 200, unknown method 501', { timeout: 30_000 }, async () => {
	const server = await startServer();
	const a = await TestUA.create({ user: 'x' });
	try {
		const r404 = await a.call({ host: '127.0.0.1', port: server.sipPort, user: '4242' });
		assert.equal(r404.status, 404);
		const sdp = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 18', 'a=rtpmap:18 G729/8000', ''].join('\r\n');
		const callId = `nocodec-${Date.now()}`;
		const port = a.sipPort;
		const invite = [
			`INVITE sip:1000@127.0.0.1:${server.sipPort} SIP/2.0`,
			`Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-nc-${Date.now()};rport`,
			`From: <sip:x@127.0.0.1:${port}>;tag=nc1`,
			`To: <sip:1000@127.0.0.1>`,
			`Call-ID: ${callId}`,
			'CSeq: 1 INVITE',
			`Contact: <sip:x@127.0.0.1:${port}>`,
			'Max-Forwards: 70',
			'Content-Type: application/sdp',
			`Content-Length: ${Buffer.byteLength(sdp)}`,
			'',
			sdp,
		].join('\r\n');
		a.sendRaw(invite, '127.0.0.1', server.sipPort);
		const res = await a.waitFor((m) => !m.isRequest && m.status >= 200 && m.header('call-id') === callId, 5000, '488');
		assert.equal(res.status, 488);
		assert.equal(server.stats().rtpPortsInUse, 0, 'no port taken for a rejected call');

		const opt = [
			`OPTIONS sip:127.0.0.1:${server.sipPort} SIP/2.0`,
			`Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-BRANCH`,
			`From: <sip:x@127.0.0.1>;tag=o1`,
			'To: <sip:127.0.0.1>',
			'Call-ID: CALLID',
			'CSeq: 1 OPTIONS',
			'Max-Forwards: 70',
			'Content-Length: 0',
			'',
			'',
		].join('\r\n');
		a.sendRaw(opt.replace('BRANCH', 'o1').replace('CALLID', 'opt-1'), '127.0.0.1', server.sipPort);
		const ro = await a.waitFor((m) => !m.isRequest && m.header('call-id') === 'opt-1', 5000, 'OPTIONS 200');
		assert.equal(ro.status, 200);
		assert.match(ro.header('allow') ?? '', /INVITE/);

		a.sendRaw(opt.replace(/OPTIONS/g, 'FOOBAR').replace('BRANCH', 'f1').replace('CALLID', 'foo-1'), '127.0.0.1', server.sipPort);
		const rf = await a.waitFor((m) => !m.isRequest && m.header('call-id') === 'foo-1', 5000, '501');
		assert.equal(rf.status, 501);

		// Garbage with a broken CSeq gets 400 and the server keeps serving.
		a.sendRaw(opt.replace('CSeq: 1 OPTIONS', 'CSeq: banana').replace('BRANCH', 'b1').replace('CALLID', 'bad-1'), '127.0.0.1', server.sipPort);
		const rb = await a.waitFor((m) => !m.isRequest && m.header('call-id') === 'bad-1', 5000, '400');
		assert.equal(rb.status, 400);
		assert.match(rb.reason, /CSeq/i);
		const again = await a.call({ host: '127.0.0.1', port: server.sipPort, user: '1000' }, { tone: 440 });
		assert.equal(again.status, 200, 'still serving');
		await a.bye();
	} finally {
		a.close();
		await server.stop();
	}
});
