import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { afterEach, before, describe, it } from 'node:test';

import { G722Decoder, G722Encoder } from '../../../src/media/codecs/g722.js';
import { MediaLeg, type MediaLegOptions, type RemoteMediaParams } from '../../../src/media/leg.js';
import { RtpPortAllocator } from '../../../src/media/ports.js';
import { readMarker, readPayloadType, readSeq, readTimestamp, writeHeader } from '../../../src/media/rtp/header.js';
import { g711Decode, g711Encode } from '../../helpers/g711.js';
import { ToneGenerator, goertzelPower, toneRatio } from '../../helpers/goertzel.js';
import { Peer, freeRange, until } from './udp.js';

/**
 * Legs with different codecs around rooms at 8, 16 and 48 kHz: each decodes
 * its codec, resamples to the room rate for the mixer and back. The "mixer"
 * here is two rings wired crosswise (leg A's toMixer into leg B's fromMixer),
 * which is what N-1 mixing of a room of two amounts to.
 *
 * The far ends encode and decode with the G.711 reference in test/helpers,
 * our G.722 (checked bit-exact against spandsp in its unit test), the
 * @discordjs/opus binding directly, and hand-written L16.
 */

const { OpusEncoder } = createRequire(import.meta.url)('@discordjs/opus') as {
	OpusEncoder: new (rate: number, channels: number) => { encode(b: Buffer): Buffer; decode(b: Buffer): Buffer };
};

type PeerCodec = 'PCMU' | 'PCMA' | 'G722' | 'opus' | 'L16/8000' | 'L16/16000';

interface Far {
	/** SDP view for setRemote. */
	remote: Omit<RemoteMediaParams, 'address' | 'port'>;
	/** Audio rate of the codec. */
	rate: number;
	/** RTP timestamp units per 20 ms. */
	tsStep: number;
	encode(pcm: Int16Array): Buffer;
	decode(payload: Buffer): Int16Array;
}

function far(codec: PeerCodec): Far {
	switch (codec) {
		case 'PCMU':
		case 'PCMA': {
			return {
				remote: { codec, payloadType: codec === 'PCMU' ? 0 : 8 },
				rate: 8000,
				tsStep: 160,
				encode: (pcm) => Buffer.from(g711Encode(codec, pcm)),
				decode: (p) => g711Decode(codec, p),
			};
		}
		case 'G722': {
			const enc = new G722Encoder();
			const dec = new G722Decoder();
			return {
				remote: { codec: 'G722', clockRate: 8000, payloadType: 9 },
				rate: 16000,
				tsStep: 160,
				encode: (pcm) => {
					const b = Buffer.alloc(pcm.length / 2);
					enc.encode(pcm, 0, pcm.length, b, 0);
					return b;
				},
				decode: (p) => {
					const out = new Int16Array(p.length * 2);
					dec.decode(p, 0, p.length, out, 0);
					return out;
				},
			};
		}
		case 'opus': {
			const o = new OpusEncoder(48000, 1);
			return {
				remote: { codec: 'opus', clockRate: 48000, payloadType: 111, fmtp: 'useinbandfec=1' },
				rate: 48000,
				tsStep: 960,
				encode: (pcm) => o.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)),
				decode: (p) => {
					const b = o.decode(p);
					return new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
				},
			};
		}
		case 'L16/8000':
		case 'L16/16000': {
			const rate = codec === 'L16/8000' ? 8000 : 16000;
			return {
				remote: { codec: 'L16', clockRate: rate, payloadType: rate === 8000 ? 98 : 97 },
				rate,
				tsStep: rate / 50,
				encode: (pcm) => {
					const b = Buffer.alloc(pcm.length * 2);
					pcm.forEach((s, i) => b.writeInt16BE(s, 2 * i));
					return b;
				},
				decode: (p) => {
					const out = new Int16Array(p.length >> 1);
					for (let i = 0; i < out.length; i++) {
						out[i] = p.readInt16BE(2 * i);
					}
					return out;
				},
			};
		}
	}
}

function rtp(pt: number, seq: number, ts: number, payload: Buffer, ssrc = 0x1234, marker = false): Buffer {
	const b = Buffer.alloc(12 + payload.length);
	writeHeader(b, pt, marker, seq, ts, ssrc);
	payload.copy(b, 12);
	return b;
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

/** A far end with its own tone: sends one 20 ms packet per call, decodes what it got. */
class FarEnd {
	readonly codec: Far;
	readonly peer: Peer;
	readonly #gen: ToneGenerator;
	#seq = 1000;
	#ts = 90000;

	constructor(codec: PeerCodec, peer: Peer, tone: number) {
		this.codec = far(codec);
		this.peer = peer;
		this.#gen = new ToneGenerator(tone, this.codec.rate, 8000);
	}

	async send(leg: MediaLeg): Promise<void> {
		const pkt = rtp(this.codec.remote.payloadType, this.#seq, this.#ts, this.codec.encode(this.#gen.next()), 0x1234, this.#seq === 1000);
		this.#seq++;
		this.#ts += this.codec.tsStep;
		await this.peer.send(pkt, leg.localPort);
	}

	/** Everything received so far, decoded in order. */
	heard(): Int16Array {
		return concat(this.peer.packets.map((p) => this.codec.decode(p.subarray(12))));
	}
}

describe('MediaLeg codecs and mix rates', () => {
	let allocator: RtpPortAllocator;
	const legs: MediaLeg[] = [];
	const peers: Peer[] = [];

	before(async () => {
		const base = await freeRange(40);
		allocator = new RtpPortAllocator({ min: base, max: base + 39, host: '127.0.0.1' });
	});

	afterEach(async () => {
		for (const l of legs.splice(0)) {
			l.close();
		}
		await Promise.all(peers.splice(0).map((p) => p.close()));
	});

	async function setup(codec: PeerCodec, mixRate: number, tone: number, opts: Partial<MediaLegOptions> = {}): Promise<{ leg: MediaLeg; end: FarEnd }> {
		const leg = await MediaLeg.create({ allocator, mixRate, rtpTimeoutMs: 0, ringSlots: 64, ...opts });
		legs.push(leg);
		const peer = await Peer.open();
		peers.push(peer);
		const end = new FarEnd(codec, peer, tone);
		leg.setRemote({ address: '127.0.0.1', port: peer.port, ...end.codec.remote });
		return { leg, end };
	}

	it('a G.722 caller and a PCMU caller in a 16 kHz room hear each other', async () => {
		const a = await setup('G722', 16000, 1200);
		const b = await setup('PCMU', 16000, 600);
		assert.equal(a.leg.frameSamples, 320);
		const frame = new Int16Array(320);
		const frames = 50;
		for (let k = 0; k < frames; k++) {
			await a.end.send(a.leg);
			await b.end.send(b.leg);
			await until(() => a.leg.packetsIn === k + 1 && b.leg.packetsIn === k + 1, `packet ${k}`);
			// The room of two: each hears the other.
			assert.ok(a.leg.toMixer.read(frame));
			assert.ok(b.leg.fromMixer.write(frame));
			assert.ok(b.leg.toMixer.read(frame));
			assert.ok(a.leg.fromMixer.write(frame));
			a.leg.sendFrame();
			b.leg.sendFrame();
		}
		await a.end.peer.received(frames);
		await b.end.peer.received(frames);
		const heardA = a.end.heard();
		const heardB = b.end.heard();
		assert.equal(heardA.length, frames * 320, 'G.722: 320 samples per packet');
		assert.equal(heardB.length, frames * 160, 'PCMU: 160 samples per packet');
		const skipA = 5 * 320;
		const skipB = 5 * 160;
		assert.ok(toneRatio(heardA, 16000, 600, { from: skipA }) > 0.9, `G.722 caller hears 600 Hz: ${toneRatio(heardA, 16000, 600, { from: skipA })}`);
		assert.ok(toneRatio(heardA, 16000, 1200, { from: skipA }) < 0.01, 'and not itself');
		assert.ok(toneRatio(heardB, 8000, 1200, { from: skipB }) > 0.9, `PCMU caller hears 1200 Hz: ${toneRatio(heardB, 8000, 1200, { from: skipB })}`);
		assert.ok(toneRatio(heardB, 8000, 600, { from: skipB }) < 0.01, 'and not itself');
		// RTP clocks: G.722 advances 160 per 20 ms although it carries 320 samples.
		for (const [end, step, pt] of [
			[a.end, 160, 9],
			[b.end, 160, 0],
		] as const) {
			const p = end.peer.packets;
			for (let i = 1; i < p.length; i++) {
				assert.equal(readTimestamp(p[i]!), (readTimestamp(p[i - 1]!) + step) >>> 0);
				assert.equal(readSeq(p[i]!), (readSeq(p[i - 1]!) + 1) & 0xffff);
				assert.equal(readPayloadType(p[i]!), pt);
			}
			assert.equal(p[0]!.length, 12 + 160);
		}
	});

	it('an Opus caller in an 8 kHz room: decoded, resampled down, and back up to 48 kHz', async () => {
		const { leg, end } = await setup('opus', 8000, 1000);
		assert.equal(leg.frameSamples, 160);
		const frames = 40;
		const got: Int16Array[] = [];
		const mixTone = new ToneGenerator(700, 8000, 8000);
		for (let k = 0; k < frames; k++) {
			await end.send(leg);
			await until(() => leg.packetsIn === k + 1, `packet ${k}`);
			const f = new Int16Array(160);
			assert.ok(leg.toMixer.read(f));
			got.push(f);
			assert.ok(leg.fromMixer.write(mixTone.next()));
			leg.sendFrame();
		}
		const mixIn = concat(got);
		assert.ok(toneRatio(mixIn, 8000, 1000, { from: 800 }) > 0.9, `mixer gets 1 kHz at 8 kHz: ${toneRatio(mixIn, 8000, 1000, { from: 800 })}`);
		await end.peer.received(frames);
		const heard = end.heard();
		assert.equal(heard.length, frames * 960);
		assert.ok(toneRatio(heard, 48000, 700, { from: 10 * 960 }) > 0.9, `caller hears 700 Hz: ${toneRatio(heard, 48000, 700, { from: 10 * 960 })}`);
		const p = end.peer.packets;
		for (let i = 1; i < p.length; i++) {
			assert.equal(readTimestamp(p[i]!), (readTimestamp(p[i - 1]!) + 960) >>> 0, 'opus: 960 per 20 ms');
			assert.equal(readPayloadType(p[i]!), 111);
		}
	});

	// Every codec in every room: what the caller says reaches the mixer at the
	// room rate, and what the mixer says reaches the caller at the codec rate.
	const codecs: PeerCodec[] = ['PCMU', 'PCMA', 'G722', 'opus', 'L16/8000', 'L16/16000'];
	for (const mixRate of [8000, 16000, 48000]) {
		for (const codec of codecs) {
			it(`${codec} in a ${mixRate / 1000} kHz room`, async () => {
				const tone = 900;
				const back = 1500;
				const { leg, end } = await setup(codec, mixRate, tone);
				const fs = mixRate / 50;
				const frames = 25;
				const got: Int16Array[] = [];
				const mixTone = new ToneGenerator(back, mixRate, 8000);
				for (let k = 0; k < frames; k++) {
					await end.send(leg);
					await until(() => leg.packetsIn === k + 1, `packet ${k}`);
					const f = new Int16Array(fs);
					assert.ok(leg.toMixer.read(f), `frame ${k} for the mixer`);
					got.push(f);
					leg.fromMixer.write(mixTone.next());
					leg.sendFrame();
				}
				const skip = 6;
				const mixIn = concat(got);
				const rIn = toneRatio(mixIn, mixRate, tone, { from: skip * fs });
				assert.ok(rIn > 0.9, `mixer gets ${tone} Hz: ${rIn.toFixed(3)}`);
				// Nothing folded or imaged elsewhere: the tone is where it belongs.
				assert.ok(goertzelPower(mixIn, mixRate, tone, skip * fs) > 100 * goertzelPower(mixIn, mixRate, tone + 200, skip * fs));
				await end.peer.received(frames);
				const heard = end.heard();
				const cf = end.codec.rate / 50;
				assert.equal(heard.length, frames * cf);
				const rOut = toneRatio(heard, end.codec.rate, back, { from: skip * cf });
				assert.ok(rOut > 0.9, `caller hears ${back} Hz: ${rOut.toFixed(3)}`);
				const p = end.peer.packets;
				assert.equal(readTimestamp(p[1]!), (readTimestamp(p[0]!) + end.codec.tsStep) >>> 0);
			});
		}
	}

	it('Opus with usedtx=1 from the far end: silent frames are not sent, the next talkspurt has the marker', async () => {
		const { leg, end } = await setup('opus', 16000, 1000);
		leg.setRemote({ address: '127.0.0.1', port: end.peer.port, codec: 'opus', clockRate: 48000, payloadType: 111, fmtp: 'usedtx=1' });
		const tone = new ToneGenerator(1000, 16000, 8000);
		const silence = new Int16Array(320);
		const plan = [...Array(10).fill(true), ...Array(60).fill(false), ...Array(10).fill(true)] as boolean[];
		for (const talk of plan) {
			leg.fromMixer.write(talk ? tone.next() : silence);
			leg.sendFrame();
		}
		await until(() => end.peer.packets.length === leg.packetsOut, 'all packets');
		const p = end.peer.packets;
		assert.ok(p.length < 50, `${p.length} packets for 80 frames`);
		assert.ok(p.length >= 20);
		let gaps = 0;
		for (let i = 1; i < p.length; i++) {
			assert.equal(readSeq(p[i]!), (readSeq(p[i - 1]!) + 1) & 0xffff, 'no hole in the sequence');
			const dt = (readTimestamp(p[i]!) - readTimestamp(p[i - 1]!)) >>> 0;
			assert.equal(dt % 960, 0);
			if (dt > 960) {
				gaps++;
				assert.ok(readMarker(p[i]!), `marker after a ${dt / 960}-frame gap`);
			} else {
				assert.ok(!readMarker(p[i]!));
			}
		}
		assert.ok(gaps >= 1);
		const last = p[p.length - 1]!;
		assert.equal((readTimestamp(last) - readTimestamp(p[0]!)) >>> 0, 79 * 960, 'the clock ran through the silence');
	});

	it('a re-INVITE with the same codec keeps its state; another codec or fmtp gets a new one', async () => {
		const { leg, end } = await setup('G722', 48000, 1000);
		const g722 = leg.codec;
		const base = { address: '127.0.0.1', port: end.peer.port };
		leg.setRemote({ ...base, codec: 'g722', clockRate: 8000, payloadType: 9 });
		assert.equal(leg.codec, g722);
		leg.setRemote({ ...base, codec: 'opus', clockRate: 48000, payloadType: 111 });
		const opus = leg.codec;
		assert.equal(opus?.name, 'opus');
		leg.setRemote({ ...base, codec: 'opus', payloadType: 111 });
		assert.equal(leg.codec, opus, 'clock rate defaults to 48000');
		leg.setRemote({ ...base, codec: 'opus', clockRate: 48000, payloadType: 111, fmtp: 'usedtx=1' });
		assert.notEqual(leg.codec, opus);
		leg.setRemote({ ...base, codec: 'PCMA', payloadType: 8 });
		assert.equal(leg.codec?.name, 'PCMA');
		// After the switch the send clock is PCMA's.
		leg.sendFrame();
		leg.sendFrame();
		const p = await end.peer.received(2);
		assert.equal(p[0]!.length, 12 + 160);
		assert.equal((readTimestamp(p[1]!) - readTimestamp(p[0]!)) >>> 0, 160);
	});

	it('telephone-event at 48000 with opus gives digits', async () => {
		const { leg, end } = await setup('opus', 16000, 1000);
		leg.setRemote({ address: '127.0.0.1', port: end.peer.port, codec: 'opus', payloadType: 111, telephoneEventPt: 110, telephoneEventClockRate: 48000 });
		const digits: string[] = [];
		leg.on('dtmf', (d) => digits.push(d));
		let seq = 1;
		for (const [event, ts] of [
			[1, 48000],
			[1, 96000],
			[9, 144000],
		] as const) {
			for (let i = 1; i <= 3; i++) {
				const te = Buffer.from([event, i === 3 ? 0x80 : 0, (i * 960) >> 8, (i * 960) & 0xff]);
				await end.peer.send(rtp(110, seq++, ts, te), leg.localPort);
			}
		}
		await until(() => leg.packetsIn === 9, 'telephone-event packets');
		assert.deepEqual(digits, ['1', '1', '9']);
	});

	it('rejects bad rates and codecs', async () => {
		await assert.rejects(MediaLeg.create({ allocator, mixRate: 44100, rtpTimeoutMs: 0 }), TypeError);
		await assert.rejects(MediaLeg.create({ allocator, mixRate: 16000, frameSamples: 160, rtpTimeoutMs: 0 }), TypeError);
		await assert.rejects(MediaLeg.create({ allocator, frameSamples: 441, rtpTimeoutMs: 0 }), TypeError);
		await assert.rejects(MediaLeg.create({ allocator, rtpTimeoutMs: 0 }), TypeError);
		const leg = await MediaLeg.create({ allocator, mixRate: 48000, rtpTimeoutMs: 0 });
		legs.push(leg);
		assert.equal(leg.frameSamples, 960);
		assert.equal(leg.mixRate, 48000);
		const base = { address: '127.0.0.1', port: 4000 };
		assert.throws(() => leg.setRemote({ ...base, codec: 'L16', clockRate: 44100, payloadType: 96 }), TypeError);
		assert.throws(() => leg.setRemote({ ...base, codec: 'opus', clockRate: 8000, payloadType: 96 }), TypeError);
		assert.throws(() => leg.setRemote({ ...base, codec: 'G722', clockRate: 16000, payloadType: 9 }), TypeError);
		assert.throws(() => leg.setRemote({ ...base, codec: 'PCMU', payloadType: 0, telephoneEventPt: 101, telephoneEventClockRate: 0 }), TypeError);
		assert.equal(leg.codec, undefined, 'nothing applied');
	});
});
