import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';

import { OpusCodec, createCodec, parseFmtpParams, parseOpusFmtp } from '../../../../src/media/codecs/index.js';
import { ToneGenerator, goertzelPower, rms, toneRatio } from '../../../helpers/goertzel.js';

const FRAME = 960;

/** The binding itself, as an independent decoder for what our codec encodes. */
const { OpusEncoder } = createRequire(import.meta.url)('@discordjs/opus') as {
	OpusEncoder: new (rate: number, channels: number) => { encode(b: Buffer): Buffer; decode(b: Buffer): Buffer };
};

function toneFrames(freq: number, frames: number, amplitude = 8000): Int16Array[] {
	const gen = new ToneGenerator(freq, 48000, amplitude, FRAME);
	return Array.from({ length: frames }, () => gen.next());
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

describe('OpusCodec', () => {
	it('round-trips a 1 kHz tone: the tone is kept, nothing else is added', () => {
		const codec = new OpusCodec();
		const pkt = Buffer.alloc(1500);
		const out = new Int16Array(codec.decodedSamples(0));
		const decoded: Int16Array[] = [];
		for (const f of toneFrames(1000, 50)) {
			const n = codec.encode(f, 0, FRAME, pkt, 0);
			assert.ok(n > 2 && n < 400, `payload ${n} bytes`);
			const got = codec.decode(pkt, 0, n, out, 0);
			assert.equal(got, FRAME);
			decoded.push(out.slice(0, got));
		}
		const all = concat(decoded);
		// Skip the codec's start-up (look-ahead and adaptation).
		const from = 10 * FRAME;
		assert.ok(toneRatio(all, 48000, 1000, { from }) > 0.95, `1 kHz share ${toneRatio(all, 48000, 1000, { from })}`);
		assert.ok(toneRatio(all, 48000, 1500, { from }) < 0.02);
		const level = rms(all, from) / (8000 / Math.SQRT2);
		assert.ok(level > 0.8 && level < 1.2, `level ${level}`);
	});

	it('makes RFC 6716 packets the reference decoder reads', () => {
		const codec = new OpusCodec('maxplaybackrate=16000');
		const ref = new OpusEncoder(48000, 1);
		const pkt = Buffer.alloc(1500);
		const decoded: Int16Array[] = [];
		for (const f of toneFrames(700, 40)) {
			const n = codec.encode(f, 0, FRAME, pkt, 0);
			const pcm = ref.decode(pkt.subarray(0, n));
			decoded.push(new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.length)));
			// maxplaybackrate=16000 → at most wideband (RFC 6716 §3.1 TOC configs:
			// 0-11 SILK NB/MB/WB, 16-23 CELT NB/WB; hybrid and CELT SWB/FB are higher).
			const config = pkt[0]! >> 3;
			assert.ok(config <= 11 || (config >= 16 && config <= 23), `TOC config ${config} is above wideband`);
		}
		const all = concat(decoded);
		assert.ok(toneRatio(all, 48000, 700, { from: 10 * FRAME }) > 0.95);
	});

	it('decodes what the reference encoder makes (also 10 and 40 ms packets)', () => {
		const ref = new OpusEncoder(48000, 1);
		const codec = new OpusCodec();
		const tone = concat(toneFrames(1000, 60));
		const out = new Int16Array(codec.decodedSamples(0));
		let pos = 0;
		const decoded: Int16Array[] = [];
		for (const size of [480, 480, 960, 1920, 960, 480, 480, 1920, 960, 960]) {
			for (let k = 0; k < 4; k++) {
				const pcm = tone.subarray(pos, pos + size);
				pos += size;
				const pkt = ref.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
				const n = codec.decode(pkt, 0, pkt.length, out, 0);
				assert.equal(n, size);
				decoded.push(out.slice(0, n));
			}
		}
		assert.ok(toneRatio(concat(decoded), 48000, 1000, { from: 10 * FRAME }) > 0.95);
	});

	it('with usedtx=1 sends nothing for silence except the periodic refresh', () => {
		const codec = new OpusCodec('usedtx=1; useinbandfec=1');
		assert.equal(codec.params.usedtx, true);
		assert.equal(codec.params.useinbandfec, true);
		const pkt = Buffer.alloc(1500);
		for (const f of toneFrames(1000, 10)) {
			assert.ok(codec.encode(f, 0, FRAME, pkt, 0) > 2);
		}
		const silence = new Int16Array(FRAME);
		let sent = 0;
		for (let i = 0; i < 100; i++) {
			if (codec.encode(silence, 0, FRAME, pkt, 0) > 0) {
				sent++;
			}
		}
		assert.ok(sent < 30, `${sent} of 100 silent frames sent`);
		// Without DTX every frame goes out.
		const plain = new OpusCodec('usedtx=0');
		for (let i = 0; i < 20; i++) {
			assert.ok(plain.encode(silence, 0, FRAME, pkt, 0) > 0);
		}
	});

	it('caps the bitrate at maxaveragebitrate', () => {
		assert.equal(new OpusCodec().bitrate, 32000);
		assert.equal(new OpusCodec('maxaveragebitrate=16000').bitrate, 16000);
		const small = new OpusCodec('maxaveragebitrate=12000');
		const pkt = Buffer.alloc(1500);
		let bytes = 0;
		for (const f of toneFrames(440, 50)) {
			bytes += small.encode(f, 0, FRAME, pkt, 0);
		}
		// 12 kbit/s over 1 s, with slack for VBR.
		assert.ok(bytes < 2200, `${bytes} bytes per second`);
	});

	it('drops an empty or oversized payload instead of throwing', () => {
		const codec = new OpusCodec();
		const out = new Int16Array(codec.decodedSamples(0));
		assert.equal(codec.decode(Buffer.alloc(0), 0, 0, out, 0), 0);
		assert.equal(codec.decode(Buffer.alloc(5000), 0, 5000, out, 0), 0);
		assert.equal(codec.decodeErrors, 2);
		// Still decodes afterwards.
		const pkt = Buffer.alloc(1500);
		const n = codec.encode(new Int16Array(FRAME), 0, FRAME, pkt, 0);
		assert.equal(codec.decode(pkt, 0, n, out, 0), FRAME);
	});

	it('keeps a 48 kHz tone exactly at its frequency (no rate mix-up)', () => {
		const codec = createCodec('opus', 48000);
		const pkt = Buffer.alloc(1500);
		const out = new Int16Array(codec.decodedSamples(0));
		const decoded: Int16Array[] = [];
		for (const f of toneFrames(2000, 30)) {
			const n = codec.encode(f, 0, FRAME, pkt, 0);
			decoded.push(out.slice(0, codec.decode(pkt, 0, n, out, 0)));
		}
		const all = concat(decoded);
		const at = goertzelPower(all, 48000, 2000, 10 * FRAME);
		const off = goertzelPower(all, 48000, 2100, 10 * FRAME);
		assert.ok(at > 100 * off);
	});
});

describe('Opus fmtp', () => {
	it('parses RFC 7587 parameters', () => {
		assert.deepEqual(parseOpusFmtp('minptime=10; useinbandfec=1;usedtx=1; maxplaybackrate=16000 ;maxaveragebitrate=20000;stereo=0;cbr=1'), {
			useinbandfec: true,
			usedtx: true,
			cbr: true,
			stereo: false,
			maxplaybackrate: 16000,
			maxaveragebitrate: 20000,
		});
		assert.deepEqual(parseOpusFmtp(undefined), {});
		assert.deepEqual(parseOpusFmtp('useinbandfec=0;maxplaybackrate=x'), { useinbandfec: false });
		assert.deepEqual([...parseFmtpParams('A=1;b;;c= 2 ')], [
			['a', '1'],
			['b', ''],
			['c', '2'],
		]);
	});
});
