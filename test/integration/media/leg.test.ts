import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { InvalidStateError } from '../../../src/common/errors.js';
import { ManualClock } from '../../../src/common/time.js';
import { MediaClock } from '../../../src/media/clock.js';
import { encodeTelephoneEvent } from '../../../src/media/codecs/telephone-event.js';
import { MediaLeg, type MediaLegOptions } from '../../../src/media/leg.js';
import { RtpPortAllocator } from '../../../src/media/ports.js';
import {
	payloadOffset,
	readMarker,
	readPayloadType,
	readSeq,
	readSsrc,
	readTimestamp,
	writeHeader,
} from '../../../src/media/rtp/header.js';
import { g711Decode, g711Encode } from '../../helpers/g711.js';
import { toneRatio } from '../../helpers/goertzel.js';
import { Peer, freeRange, until } from './udp.js';

const FS = 160;
const SSRC = 0x11223344;

/** An RTP packet as a phone sends it, PCM encoded by the independent reference G.711. */
function rtp(pt: number, seq: number, ts: number, payload: Uint8Array, ssrc = SSRC, marker = false): Buffer {
	const b = Buffer.alloc(12 + payload.length);
	writeHeader(b, pt, marker, seq, ts, ssrc);
	b.set(payload, 12);
	return b;
}

/**
 * `n` frames of a phase-continuous sine whose level steps up every frame, so a
 * lost, repeated or reordered frame changes the signal (a steady 1 kHz tone
 * repeats every 8 samples and would hide it).
 */
function toneFrames(n: number, freq: number, frameSamples = FS): Int16Array[] {
	const frames: Int16Array[] = [];
	for (let k = 0; k < n; k++) {
		const f = new Int16Array(frameSamples);
		for (let i = 0; i < frameSamples; i++) {
			const t = k * frameSamples + i;
			f[i] = Math.round((2000 + 500 * k) * Math.sin((2 * Math.PI * freq * t) / 8000));
		}
		frames.push(f);
	}
	return frames;
}

function concat(frames: Int16Array[]): Int16Array {
	const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
	let o = 0;
	for (const f of frames) {
		out.set(f, o);
		o += f.length;
	}
	return out;
}

function drain(leg: MediaLeg): Int16Array[] {
	const frames: Int16Array[] = [];
	for (;;) {
		const f = new Int16Array(FS);
		if (!leg.toMixer.read(f)) {
			return frames;
		}
		frames.push(f);
	}
}

describe('MediaLeg', () => {
	let allocator: RtpPortAllocator;
	const legs: MediaLeg[] = [];
	const peers: Peer[] = [];

	before(async () => {
		const base = await freeRange(40);
		allocator = new RtpPortAllocator({ min: base, max: base + 39, host: '127.0.0.1' });
	});

	after(async () => {
		for (const l of legs) {
			l.close();
		}
		await Promise.all(peers.map((p) => p.close()));
	});

	async function newLeg(opts: Partial<MediaLegOptions> = {}): Promise<MediaLeg> {
		const leg = await MediaLeg.create({ allocator, frameSamples: FS, rtpTimeoutMs: 0, ringSlots: 64, ...opts });
		legs.push(leg);
		return leg;
	}

	async function newPeer(): Promise<Peer> {
		const p = await Peer.open();
		peers.push(p);
		return p;
	}

	it('decodes a 1 kHz PCMU tone into 20 ms frames for the mixer', async () => {
		const leg = await newLeg();
		const peer = await newPeer();
		leg.setRemote({ address: '127.0.0.1', port: peer.port, codec: 'PCMU', payloadType: 0 });
		const sent = toneFrames(10, 1000);
		for (let i = 0; i < 10; i++) {
			const pcm = sent[i]!;
			await peer.send(rtp(0, 1000 + i, 5000 + i * FS, g711Encode('PCMU', pcm), SSRC, i === 0), leg.localPort);
		}
		await until(() => leg.toMixer.available() >= 10, '10 frames in toMixer');
		const got = concat(drain(leg));
		assert.equal(got.length, 10 * FS);
		const ratio = toneRatio(got, 8000, 1000);
		assert.ok(ratio > 0.95, `1 kHz share ${ratio}`);
		assert.ok(toneRatio(got, 8000, 1500) < 0.05);
		// Exactly what the reference decoder makes of the sent bytes, in order.
		assert.deepEqual(got, g711Decode('PCMU', g711Encode('PCMU', concat(sent))));
		assert.equal(leg.packetsIn, 10);
		assert.equal(leg.bytesIn, 10 * (12 + FS));
		assert.ok(leg.lastRtpAt !== undefined);
	});

	it('re-frames 10 ms and 30 ms packets (PCMA) into 20 ms frames', async () => {
		const leg = await newLeg();
		const peer = await newPeer();
		leg.setRemote({ address: '127.0.0.1', port: peer.port, codec: 'PCMA', payloadType: 8 });
		const tone = concat(toneFrames(20, 700, 80));
		const sent: Int16Array[] = [];
		let seq = 10;
		let ts = 0;
		// 5 × 10 ms, then 5 × 30 ms: 200 ms = 10 frames, no samples left over.
		for (const n of [80, 80, 80, 80, 80, 240, 240, 240, 240, 240]) {
			const pcm = tone.subarray(ts, ts + n);
			sent.push(pcm);
			await peer.send(rtp(8, seq++, ts, g711Encode('PCMA', pcm)), leg.localPort);
			ts += n;
			// In order, so each packet's arrival is checked before the next.
			await until(() => leg.packetsIn === seq - 10, 'packet in');
		}
		assert.equal(leg.toMixer.available(), 10);
		const got = concat(drain(leg));
		assert.deepEqual(got, g711Decode('PCMA', g711Encode('PCMA', concat(sent))));
		assert.ok(toneRatio(got, 8000, 700) > 0.95);
	});

	it('sends mixer frames as RTP: consecutive seq, ts +160, one SSRC, PT 0, marker first', async () => {
		const leg = await newLeg();
		const peer = await newPeer();
		leg.sendFrame();
		assert.equal(leg.packetsOut, 0, 'nothing sent before the remote is known');
		leg.setRemote({ address: '127.0.0.1', port: peer.port, codec: 'PCMU', payloadType: 0, telephoneEventPt: 101 });
		const frames = toneFrames(8, 1000);
		// Three mix frames and a tick with nothing from the mixer …
		for (let i = 0; i < 3; i++) {
			assert.ok(leg.fromMixer.write(frames[i]!));
		}
		for (let i = 0; i < 4; i++) {
			leg.sendFrame();
		}
		// … then five queued at once: only the newest three go out (bounded latency).
		for (let i = 3; i < 8; i++) {
			assert.ok(leg.fromMixer.write(frames[i]!));
		}
		for (let i = 0; i < 3; i++) {
			leg.sendFrame();
		}
		const pkts = await peer.received(7);
		assert.equal(pkts.length, 7);
		const seq0 = readSeq(pkts[0]!);
		const ts0 = readTimestamp(pkts[0]!);
		pkts.forEach((p, i) => {
			assert.equal(payloadOffset(p, p.length), 12);
			assert.equal(p.length, 12 + FS);
			assert.equal(readPayloadType(p), 0);
			assert.equal(readMarker(p), i === 0, `marker on packet ${i}`);
			assert.equal(readSeq(p), (seq0 + i) & 0xffff);
			assert.equal(readTimestamp(p), (ts0 + i * FS) >>> 0);
			assert.equal(readSsrc(p), leg.ssrc);
			assert.equal(peer.from[i]!.port, leg.localPort, 'sent from the leg port (symmetric)');
		});
		const payloads = pkts.map((p) => g711Decode('PCMU', p.subarray(12)));
		const expect = (i: number): Int16Array => g711Decode('PCMU', g711Encode('PCMU', frames[i]!));
		assert.deepEqual(payloads.slice(0, 3), [0, 1, 2].map(expect));
		assert.ok(pkts[3]!.subarray(12).every((b) => b === 0xff), 'silence when the mixer has nothing');
		assert.deepEqual(payloads.slice(4), [5, 6, 7].map(expect));
		assert.equal(leg.fromMixer.skipped, 2);
		assert.equal(leg.packetsOut, 7);
		assert.equal(leg.bytesOut, 7 * (12 + FS));
	});

	it('keeps sending on the shared MediaClock', async () => {
		const leg = await newLeg();
		const peer = await newPeer();
		leg.setRemote({ address: '127.0.0.1', port: peer.port, codec: 'PCMA', payloadType: 8 });
		const clock = new MediaClock();
		clock.add(leg);
		try {
			const pkts = await peer.received(5);
			for (let i = 1; i < 5; i++) {
				assert.equal(readSeq(pkts[i]!), (readSeq(pkts[0]!) + i) & 0xffff);
			}
			assert.ok(pkts[4]!.subarray(12).every((b) => b === 0xd5), 'A-law silence');
		} finally {
			clock.close();
		}
		assert.equal(clock.running, false);
	});

	it('latches to where RTP comes from, and re-latches only when the new source persists', async () => {
		const leg = await newLeg();
		const sdpPeer = await newPeer();
		const natPeer = await newPeer();
		const movedPeer = await newPeer();
		const changes: Array<[string, number]> = [];
		leg.on('remotechanged', (a, p) => changes.push([a, p]));
		leg.setRemote({ address: '127.0.0.1', port: sdpPeer.port, codec: 'PCMU', payloadType: 0 });
		// Before any RTP: the SDP address.
		leg.sendFrame();
		await sdpPeer.received(1);
		const payload = new Uint8Array(FS).fill(0xff);
		await natPeer.send(rtp(0, 1, 0, payload), leg.localPort);
		await until(() => changes.length === 1, 'latch');
		assert.deepEqual(changes[0], ['127.0.0.1', natPeer.port]);
		assert.equal(leg.remotePort, natPeer.port);
		leg.sendFrame();
		await natPeer.received(1);

		// A new source: four packets are not enough, and are not played.
		for (let i = 0; i < 4; i++) {
			await movedPeer.send(rtp(0, 2 + i, FS * (1 + i), payload), leg.localPort);
		}
		await until(() => leg.packetsDropped === 4, 'foreign packets dropped');
		assert.equal(leg.packetsIn, 1);
		// The old source speaks again: the count starts over.
		await natPeer.send(rtp(0, 6, FS * 5, payload), leg.localPort);
		await until(() => leg.packetsIn === 2, 'latched source accepted');
		for (let i = 0; i < 4; i++) {
			await movedPeer.send(rtp(0, 7 + i, FS * (6 + i), payload), leg.localPort);
		}
		await until(() => leg.packetsDropped === 8, 'foreign packets dropped again');
		assert.equal(changes.length, 1);
		// The fifth in a row moves the stream.
		await movedPeer.send(rtp(0, 11, FS * 10, payload), leg.localPort);
		await until(() => changes.length === 2, 're-latch');
		assert.deepEqual(changes[1], ['127.0.0.1', movedPeer.port]);
		assert.equal(leg.packetsIn, 3);
		leg.sendFrame();
		await movedPeer.received(1);
		assert.equal(sdpPeer.packets.length, 1);
		assert.equal(natPeer.packets.length, 1);
		// A re-INVITE with the same address keeps the latch.
		leg.setRemote({ address: '127.0.0.1', port: sdpPeer.port, codec: 'PCMU', payloadType: 0 });
		assert.equal(leg.remotePort, movedPeer.port);
	});

	it('turns telephone-event packets into digits and drops other payload types, RTCP and junk', async () => {
		const leg = await newLeg();
		const peer = await newPeer();
		const digits: string[] = [];
		leg.on('dtmf', (d) => digits.push(d));
		leg.setRemote({ address: '127.0.0.1', port: peer.port, codec: 'PCMU', payloadType: 0, telephoneEventPt: 101 });
		let seq = 100;
		const te = Buffer.alloc(4);
		for (const [event, ts] of [[5, 8000], [5, 9600], [11, 11200]] as const) {
			for (let i = 1; i <= 9; i++) {
				encodeTelephoneEvent(te, 0, event, false, 10, i * FS);
				await peer.send(rtp(101, seq++, ts, te, SSRC, i === 1), leg.localPort);
			}
			for (let i = 0; i < 3; i++) {
				encodeTelephoneEvent(te, 0, event, true, 10, 10 * FS);
				await peer.send(rtp(101, seq++, ts, te), leg.localPort);
			}
		}
		await until(() => leg.packetsIn === 36, '36 telephone-event packets');
		assert.deepEqual(digits, ['5', '5', '#']);
		assert.equal(leg.toMixer.available(), 0, 'digits are not audio');

		const dropped = leg.packetsDropped;
		await peer.send(rtp(8, seq++, 0, new Uint8Array(FS)), leg.localPort); // PCMA, not negotiated
		await peer.send(rtp(13, seq++, 0, new Uint8Array(1)), leg.localPort); // comfort noise
		await peer.send(Buffer.from([0x80, 200, 0, 6, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0]), leg.localPort); // RTCP SR
		await peer.send(Buffer.from([0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1]), leg.localPort); // version 1
		await peer.send(Buffer.from([0x80, 0]), leg.localPort); // short
		await until(() => leg.packetsDropped === dropped + 4 && leg.rtcpIn === 1, 'drops');
		assert.equal(leg.toMixer.available(), 0);
		// Still working afterwards.
		await peer.send(rtp(0, seq++, 20000, new Uint8Array(FS).fill(0x80)), leg.localPort);
		await until(() => leg.toMixer.available() === 1, 'audio after junk');
	});

	it('drops duplicate and late packets but follows a sequence restart', async () => {
		const leg = await newLeg();
		const peer = await newPeer();
		leg.setRemote({ address: '127.0.0.1', port: peer.port, codec: 'PCMU', payloadType: 0 });
		const send = async (seq: number, fill: number, ssrc = SSRC): Promise<void> => {
			const before = leg.packetsIn + leg.packetsDropped;
			await peer.send(rtp(0, seq, seq * FS, new Uint8Array(FS).fill(fill), ssrc), leg.localPort);
			await until(() => leg.packetsIn + leg.packetsDropped === before + 1, `seq ${seq}`);
		};
		await send(65534, 0x80);
		await send(65535, 0x81);
		await send(65535, 0x82); // duplicate
		await send(0, 0x83); // across the wrap
		await send(65533, 0x84); // late
		await send(30000, 0x85); // far jump: a restart, kept
		await send(30000, 0x86, 0x5555); // new SSRC, kept
		const firsts = drain(leg).map((f) => f[0]);
		assert.deepEqual(firsts, [0x80, 0x81, 0x83, 0x85, 0x86].map((c) => g711Decode('PCMU', Uint8Array.of(c))[0]));
		assert.equal(leg.packetsDropped, 2);
		assert.equal(leg.packetsLost, 0, 'a wrap, a duplicate, a late packet and a restart are not loss');
		await send(30003, 0x87, 0x5555); // 30001 and 30002 missing
		await send(30004, 0x88, 0x5555);
		await send(30001, 0x89, 0x5555); // arrives too late: dropped, still lost
		assert.equal(leg.packetsLost, 2);
		assert.equal(leg.packetsDropped, 3);
	});

	it('emits rtptimeout once, counted from the last packet (manual clock)', async () => {
		const clock = new ManualClock();
		const leg = await newLeg({ rtpTimeoutMs: 200, clock });
		const peer = await newPeer();
		let timeouts = 0;
		leg.on('rtptimeout', () => timeouts++);
		clock.advance(1000);
		assert.equal(timeouts, 0, 'not before setRemote()/start()');
		leg.setRemote({ address: '127.0.0.1', port: peer.port, codec: 'PCMU', payloadType: 0 });
		clock.advance(150);
		await peer.send(rtp(0, 1, 0, new Uint8Array(FS)), leg.localPort);
		await until(() => leg.packetsIn === 1, 'packet');
		clock.advance(150);
		assert.equal(timeouts, 0, '150 ms after the packet');
		clock.advance(49);
		assert.equal(timeouts, 0, '199 ms after the packet');
		clock.advance(1);
		assert.equal(timeouts, 1, '200 ms after the packet');
		clock.advance(5000);
		assert.equal(timeouts, 1, 'once');
		assert.equal(clock.pending, 0);
	});

	it('emits rtptimeout when the peer stops sending (real clock)', { timeout: 15000 }, async () => {
		const leg = await newLeg({ rtpTimeoutMs: 300 });
		const peer = await newPeer();
		leg.setRemote({ address: '127.0.0.1', port: peer.port, codec: 'PCMU', payloadType: 0 });
		const timedOut = once(leg, 'rtptimeout');
		for (let i = 0; i < 3; i++) {
			await peer.send(rtp(0, i, i * FS, new Uint8Array(FS)), leg.localPort);
		}
		await until(() => leg.packetsIn === 3, 'packets');
		const t0 = Date.now();
		await timedOut;
		assert.ok(Date.now() - t0 >= 200, 'not before the timeout (minus timer slack)');
	});

	it('close() releases the port, emits close once and is idempotent', async () => {
		const inUse = allocator.inUse;
		const leg = await MediaLeg.create({ allocator, frameSamples: FS, rtpTimeoutMs: 1000 });
		const peer = await newPeer();
		leg.setRemote({ address: '127.0.0.1', port: peer.port, codec: 'PCMU', payloadType: 0 });
		assert.equal(allocator.inUse, inUse + 1);
		let closes = 0;
		leg.on('close', () => closes++);
		leg.close();
		leg.close();
		assert.equal(closes, 1);
		assert.equal(leg.closed, true);
		assert.equal(allocator.inUse, inUse);
		leg.sendFrame();
		assert.equal(leg.packetsOut, 0);
		assert.throws(() => leg.setRemote({ address: '127.0.0.1', port: 9, codec: 'PCMU', payloadType: 0 }), InvalidStateError);
		// The port is really free again.
		const again = new RtpPortAllocator({ min: leg.localPort, max: leg.localPort, host: '127.0.0.1' });
		const a = await again.allocate();
		a.socket.close();
	});

	it('leaves the allocator empty when every leg is closed', async () => {
		for (const l of legs) {
			l.close();
		}
		assert.equal(allocator.inUse, 0);
	});

	it('rejects bad parameters', async () => {
		await assert.rejects(MediaLeg.create({ allocator, frameSamples: 0, rtpTimeoutMs: 0 }), TypeError);
		const leg = await newLeg();
		assert.throws(() => leg.setRemote({ address: '', port: 4000, codec: 'PCMU', payloadType: 0 }), TypeError);
		assert.throws(() => leg.setRemote({ address: '127.0.0.1', port: 70000, codec: 'PCMU', payloadType: 0 }), TypeError);
		assert.throws(() => leg.setRemote({ address: '127.0.0.1', port: 4000, codec: 'PCMU', payloadType: 128 }), TypeError);
		assert.throws(
			() => leg.setRemote({ address: '127.0.0.1', port: 4000, codec: 'G729' as 'PCMU', payloadType: 18 }),
			TypeError,
		);
		assert.throws(
			() => leg.setRemote({ address: '127.0.0.1', port: 4000, codec: 'PCMU', payloadType: 0, telephoneEventPt: 0 }),
			TypeError,
		);
		leg.close();
	});
});
