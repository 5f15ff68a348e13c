/**
 * The server end to end with the test UA (no softphone needed, never
 * skipped), for what a softphone cannot check: the RTP streams the server
 * sends (one SSRC, seq +1, ts +160, ~50 packets/s, sent from the advertised
 * port) with PCMU and PCMA legs in one room, and that the server's non-2xx
 * INVITE transaction absorbs our ACK. (Tones, late offer, symmetric RTP and
 * shutdown are in test/integration/server/.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TestUA, type CallOptions, type RtpRecord } from '../helpers/test-ua.js';
import { toneRatio } from '../helpers/goertzel.js';

type Server = Awaited<ReturnType<typeof import('../../src/index.js').createServer>>;

const RATE = 8000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitUntil(cond: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!cond()) {
		if (Date.now() > deadline) {
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
		}
		await sleep(50);
	}
}

/** Checks one RTP stream: one SSRC, seq +1, ts +160, 160-byte payloads, ~50 packets/s. */
function assertCleanStream(packets: RtpRecord[], label: string): void {
	assert.ok(packets.length >= 40, `${label}: only ${packets.length} packets`);
	assert.equal(new Set(packets.map((p) => p.ssrc)).size, 1, `${label}: SSRC changed`);
	let seqErrors = 0;
	let tsErrors = 0;
	for (let i = 1; i < packets.length; i++) {
		const a = packets[i - 1] as RtpRecord;
		const b = packets[i] as RtpRecord;
		if (b.seq !== ((a.seq + 1) & 0xffff)) {
			seqErrors++;
		}
		if (b.ts !== ((a.ts + 160) >>> 0)) {
			tsErrors++;
		}
		assert.equal(b.payloadBytes, 160, `${label}: payload size`);
	}
	assert.equal(seqErrors, 0, `${label}: sequence discontinuities`);
	assert.equal(tsErrors, 0, `${label}: timestamp steps other than 160`);
	const span = ((packets[packets.length - 1] as RtpRecord).at - (packets[0] as RtpRecord).at) / 1000;
	const pps = (packets.length - 1) / span;
	assert.ok(pps > 33 && pps < 75, `${label}: ${pps.toFixed(1)} packets/s, want ~50`);
}

describe('server with TestUA participants', { timeout: 120000 }, () => {
	let server: Server | undefined;
	const uas: TestUA[] = [];

	before(async () => {
		const { createServer } = await import('../../src/index.js');
		server = await createServer({
			sip: { host: '127.0.0.1', port: 0 },
			rtp: { portMin: 30000, portMax: 39999 },
			rooms: [{ name: 'ua-e2e', number: '1000' }],
		});
		await server.start();
	});

	after(async () => {
		for (const u of uas) {
			u.close();
		}
		await server?.stop();
	});

	async function join(user: string, room: string, opts: CallOptions): Promise<TestUA> {
		assert.ok(server);
		const ua = await TestUA.create({ user });
		uas.push(ua);
		const res = await ua.call({ host: '127.0.0.1', port: server.sipPort, user: room }, { timeoutMs: 15000, ...opts });
		assert.equal(res.status, 200, `${user} joining ${room}: ${res.response.raw}`);
		assert.ok(res.codec, `${user}: no codec negotiated: ${res.response.body}`);
		return ua;
	}

	async function hangUpAll(list: TestUA[]): Promise<void> {
		for (const ua of list) {
			const r = await ua.bye();
			assert.equal(r.status, 200);
		}
		await waitUntil(
			() => server!.stats().calls === 0 && server!.stats().legs === 0,
			10000,
			() => `server.stats() to show 0 calls and 0 legs, got ${JSON.stringify(server!.stats())}`,
		);
	}

	it('a PCMU and a PCMA participant hear each other, not themselves, over clean RTP streams', async () => {
		const a = await join('a', '1000', { tone: 440, codecs: ['PCMU'] });
		const b = await join('b', '1000', { tone: 1000, codecs: ['PCMA'] });
		assert.equal(a.callInfo?.codec, 'PCMU');
		assert.equal(b.callInfo?.codec, 'PCMA');
		a.resetMedia();
		b.resetMedia();
		await Promise.all([a.waitForAudio(3 * RATE, 20000), b.waitForAudio(3 * RATE, 20000)]);
		const ha = a.received.subarray(RATE);
		const hb = b.received.subarray(RATE);
		assert.ok(toneRatio(ha, RATE, 1000) > 0.8, `a hears b: ${toneRatio(ha, RATE, 1000)}`);
		assert.ok(toneRatio(ha, RATE, 440) < 0.05, `a hears itself: ${toneRatio(ha, RATE, 440)}`);
		assert.ok(toneRatio(hb, RATE, 440) > 0.8, `b hears a: ${toneRatio(hb, RATE, 440)}`);
		assert.ok(toneRatio(hb, RATE, 1000) < 0.05, `b hears itself: ${toneRatio(hb, RATE, 1000)}`);
		for (const [ua, label, pt] of [[a, 'to a', 0], [b, 'to b', 8]] as const) {
			const audio = ua.packets.filter((p) => p.pt === pt);
			assert.equal(audio.length, ua.packets.length, `server stream ${label}: only payload type ${pt} expected`);
			assertCleanStream(audio, `server stream ${label}`);
			// the server sends from the port it advertised (RFC 4961 symmetric RTP)
			const adv = ua.callInfo?.remoteRtp;
			assert.ok(audio.every((p) => p.from.port === adv?.port), `server stream ${label} comes from its SDP port ${adv?.port}`);
		}
		const s = server!.stats();
		assert.equal(s.calls, 2);
		assert.equal(s.legs, 2);
		await hangUpAll([a, b]);
	});

	it('an unknown room gets 404, and our ACK stops its retransmission', async () => {
		const ua = await TestUA.create({ user: 'lost' });
		uas.push(ua);
		const res = await ua.call({ host: '127.0.0.1', port: server!.sipPort, user: '9999' }, { timeoutMs: 10000 });
		assert.equal(res.status, 404);
		await sleep(1500);
		const finals = ua.responses.filter((r) => r.callId === res.callId && r.status >= 300);
		assert.equal(finals.length, 1, 'the server retransmitted the 404: it did not take our ACK');
		assert.equal(server!.stats().calls, 0);
	});
});
