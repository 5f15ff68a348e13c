import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server } from '../../../src/index.js';
import { encodeTelephoneEvent } from '../../../src/media/codecs/telephone-event.js';
import { parseSipInfoDtmf, type DtmfEvent } from '../../../src/media/dtmf/events.js';
import { MediaLeg, type MediaLegOptions } from '../../../src/media/leg.js';
import { RtpPortAllocator } from '../../../src/media/ports.js';
import { writeHeader } from '../../../src/media/rtp/header.js';
import { g711Encode } from '../../helpers/g711.js';
import { mix, rms, sine } from '../../helpers/goertzel.js';
import { TestUA } from '../../helpers/test-ua.js';
import { until } from '../../helpers/wait.js';
import { Peer, freeRange } from './udp.js';

const FS = 160;
const KEYS: Record<string, [number, number]> = { '5': [770, 1336], '9': [852, 1477], '#': [941, 1477] };

function dtmfTone(digit: string, ms: number): Int16Array {
	const [row, col] = KEYS[digit]!;
	return mix(sine(row, 8000, ms, 7000), sine(col, 8000, ms, 6000));
}

function rtp(pt: number, seq: number, ts: number, payload: Uint8Array, marker = false): Buffer {
	const b = Buffer.alloc(12 + payload.length);
	writeHeader(b, pt, marker, seq, ts, 0x1234);
	b.set(payload, 12);
	return b;
}

describe('digits from every source arrive once on the leg', () => {
	let server: Server;
	const uas: TestUA[] = [];

	before(async () => {
		server = await createServer({ sip: { host: '127.0.0.1', port: 0 }, rooms: [{ name: 'R', number: '1000' }] });
		await server.start();
	});

	after(async () => {
		for (const ua of uas) {
			ua.close();
		}
		await server.stop();
	});

	it('RFC 4733 from a caller (3 end packets each) and SIP INFO give one typed event per key', { timeout: 60_000 }, async () => {
		const ua = await TestUA.create({ user: 'keys' });
		uas.push(ua);
		assert.equal((await ua.call({ host: '127.0.0.1', port: server.sipPort, user: '1000' }, { tone: 400 })).status, 200);
		await until(() => server.calls.list().some((c) => c.leg !== undefined && c.state === 'active'), 10_000, 'call');
		const leg = server.calls.list()[0]!.leg!;
		const got: DtmfEvent[] = [];
		const legacy: string[] = [];
		leg.on('digit', (e) => got.push(e));
		leg.on('dtmf', (d) => legacy.push(d));
		await ua.sendDtmf('1234#1');
		await until(() => got.length >= 6, 10_000, 'six digits');
		// Late repeats would show up here.
		await new Promise((r) => setTimeout(r, 500));
		assert.deepEqual(got.map((e) => e.digit).join(''), '1234#1');
		assert.ok(got.every((e) => e.source === 'rfc4733' && e.durationMs > 0), JSON.stringify(got));
		assert.deepEqual(legacy.join(''), '1234#1');

		// A real INFO goes out and is answered; its body is what the SIP layer hands to injectDigit().
		const body = 'Signal=7\r\nDuration=160\r\n';
		const res = await ua.request('INFO', { body, contentType: 'application/dtmf-relay' });
		assert.equal(res.status, 200);
		const parsed = parseSipInfoDtmf('application/dtmf-relay', body)!;
		leg.injectDigit(parsed.digit, parsed.durationMs);
		leg.injectDigit('a');
		assert.deepEqual(got.slice(6), [
			{ digit: '7', source: 'info', durationMs: 160 },
			{ digit: 'A', source: 'info', durationMs: 0 },
		]);
		assert.throws(() => leg.injectDigit('x'), TypeError);
		assert.throws(() => leg.injectDigit('12'), TypeError);
		await ua.bye();
		await until(() => server.stats().calls === 0, 10_000, 'call to end');
	});
});

describe('in-band DTMF on a G.711 leg (real RTP socket)', () => {
	let allocator: RtpPortAllocator;
	const legs: MediaLeg[] = [];
	const peers: Peer[] = [];

	before(async () => {
		const base = await freeRange(8);
		allocator = new RtpPortAllocator({ min: base, max: base + 7, host: '127.0.0.1' });
	});

	after(async () => {
		for (const l of legs) {
			l.close();
		}
		await Promise.all(peers.map((p) => p.close()));
		assert.equal(allocator.inUse, 0);
	});

	async function setup(opts: Partial<MediaLegOptions> = {}): Promise<{ leg: MediaLeg; peer: Peer; got: DtmfEvent[]; send: (pcm: Int16Array) => Promise<void>; sendEvent: (event: number, ms: number) => Promise<void> }> {
		const leg = await MediaLeg.create({ allocator, frameSamples: FS, rtpTimeoutMs: 0, ringSlots: 256, ...opts });
		const peer = await Peer.open();
		legs.push(leg);
		peers.push(peer);
		leg.setRemote({ address: '127.0.0.1', port: peer.port, codec: 'PCMU', payloadType: 0, telephoneEventPt: 101 });
		const got: DtmfEvent[] = [];
		leg.on('digit', (e) => got.push(e));
		let seq = 1;
		let ts = 0;
		const send = async (pcm: Int16Array): Promise<void> => {
			for (let off = 0; off < pcm.length; off += FS) {
				const n = leg.packetsIn;
				await peer.send(rtp(0, seq++, ts, g711Encode('PCMU', pcm.subarray(off, off + FS))), leg.localPort);
				ts += FS;
				await until(() => leg.packetsIn > n || leg.packetsDropped > 0, 5000, 'packet in');
			}
		};
		const sendEvent = async (event: number, ms: number): Promise<void> => {
			const te = Buffer.alloc(4);
			const start = ts;
			for (let d = FS; d <= (ms * 8); d += FS) {
				encodeTelephoneEvent(te, 0, event, false, 10, d);
				await peer.send(rtp(101, seq++, start, te), leg.localPort);
			}
			for (let i = 0; i < 3; i++) {
				encodeTelephoneEvent(te, 0, event, true, 10, ms * 8);
				await peer.send(rtp(101, seq++, start, te), leg.localPort);
			}
		};
		return { leg, peer, got, send, sendEvent };
	}

	function drain(leg: MediaLeg): Int16Array {
		const frames: Int16Array[] = [];
		for (;;) {
			const f = new Int16Array(FS);
			if (!leg.toMixer.read(f)) {
				break;
			}
			frames.push(f);
		}
		const out = new Int16Array(frames.length * FS);
		frames.forEach((f, i) => out.set(f, i * FS));
		return out;
	}

	it('detects tones in the audio once each, and keeps them out of the mix', { timeout: 30_000 }, async () => {
		const { leg, got, send } = await setup();
		const voice = sine(300, 8000, 200, 6000);
		const quiet = new Int16Array(FS * 5);
		await send(voice);
		await send(dtmfTone('5', 120));
		await send(quiet);
		await send(dtmfTone('9', 200));
		await send(quiet);
		await until(() => got.length >= 2, 5000, 'two digits');
		assert.deepEqual(got, [
			{ digit: '5', source: 'inband', durationMs: 120 },
			{ digit: '9', source: 'inband', durationMs: 200 },
		]);
		const heard = drain(leg);
		assert.equal(heard.length, (10 + 6 + 5 + 10 + 5) * FS, 'every frame delivered');
		assert.ok(rms(heard.subarray(0, 10 * FS)) > 3000, 'the voice reaches the mix');
		assert.equal(rms(heard.subarray(10 * FS, 16 * FS)), 0, 'the 5 does not');
		assert.equal(rms(heard.subarray(21 * FS, 31 * FS)), 0, 'the 9 does not');
	});

	it('one key signalled as RFC 4733 and as tones counts once; muted legs still give digits', { timeout: 30_000 }, async () => {
		const { leg, got, send, sendEvent } = await setup();
		await sendEvent(11, 100);
		await send(dtmfTone('#', 100));
		await send(new Int16Array(FS * 5));
		await until(() => got.length >= 1, 5000, 'a digit');
		await new Promise((r) => setTimeout(r, 100));
		assert.deepEqual(got.map((e) => `${e.digit}:${e.source}`), ['#:rfc4733']);
		drain(leg);
		leg.muted = true;
		await send(sine(300, 8000, 100, 6000));
		await send(dtmfTone('5', 100));
		await send(new Int16Array(FS * 5));
		await until(() => got.length >= 2, 5000, 'a digit while muted');
		assert.equal(got[1]!.digit, '5');
		assert.equal(leg.toMixer.available(), 0, 'a muted caller adds nothing to the mix');
		leg.muted = false;
		await send(sine(300, 8000, 40, 6000));
		assert.equal(leg.toMixer.available(), 2);
	});

	it('sendonly/inactive ignore input, recvonly/inactive stop sending', { timeout: 30_000 }, async () => {
		const { leg, peer, got, send, sendEvent } = await setup();
		assert.throws(() => leg.setDirection('hold' as 'sendrecv'), TypeError);
		leg.setDirection('sendonly');
		assert.equal(leg.direction, 'sendonly');
		await send(sine(300, 8000, 100, 6000));
		await sendEvent(5, 100);
		await send(dtmfTone('9', 100));
		await send(new Int16Array(FS * 5));
		assert.equal(leg.toMixer.available(), 0);
		assert.deepEqual(got, []);
		leg.sendFrame();
		await peer.received(1);
		leg.setDirection('recvonly');
		const out = leg.packetsOut;
		leg.sendFrame();
		leg.sendFrame();
		assert.equal(leg.packetsOut, out, 'nothing sent while recvonly');
		await send(sine(300, 8000, 40, 6000));
		assert.equal(leg.toMixer.available(), 2, 'input heard again');
		leg.setDirection('inactive');
		leg.sendFrame();
		await send(sine(300, 8000, 40, 6000));
		assert.equal(leg.toMixer.available(), 2);
		assert.equal(leg.packetsOut, out);
		leg.setDirection('sendrecv');
		leg.sendFrame();
		await peer.received(2);
		assert.equal(leg.packetsOut, out + 1);
	});
});
