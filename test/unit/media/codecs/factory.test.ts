import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
	G722Codec,
	G722Decoder,
	G722Encoder,
	OpusCodec,
	PCMA,
	PCMU,
	codecByName,
	createCodec,
	isCodecSupported,
} from '../../../../src/media/codecs/index.js';
import { sine, toneRatio } from '../../../helpers/goertzel.js';

describe('createCodec', () => {
	it('shares the stateless G.711 instances', () => {
		assert.equal(createCodec('PCMU'), PCMU);
		assert.equal(createCodec('pcma', 8000), PCMA);
		assert.equal(codecByName('PCMU'), PCMU);
	});

	it('makes a fresh instance for each stateful codec', () => {
		const a = createCodec('G722', 8000);
		const b = createCodec('g722');
		assert.ok(a instanceof G722Codec);
		assert.notEqual(a, b);
		const o1 = createCodec('opus', 48000);
		const o2 = codecByName('OPUS');
		assert.ok(o1 instanceof OpusCodec);
		assert.notEqual(o1, o2);
	});

	it('knows the RTP clock and the audio rate apart (G.722: 8000 vs 16000, opus: 48000)', () => {
		const g = createCodec('G722');
		assert.equal(g.clockRate, 8000);
		assert.equal(g.sampleRate, 16000);
		assert.equal(g.payloadType, 9);
		assert.equal(g.frameSamples(20), 320);
		const o = createCodec('opus');
		assert.equal(o.clockRate, 48000);
		assert.equal(o.sampleRate, 48000);
		assert.equal(o.frameSamples(20), 960);
	});

	it('rejects what it cannot carry with UnsupportedError', () => {
		for (const [name, rate] of [
			['G729', 8000],
			['PCMU', 16000],
			['G722', 16000],
			['opus', 16000],
			['telephone-event', 8000],
		] as const) {
			assert.equal(isCodecSupported(name, rate), false, `${name}/${rate}`);
			assert.throws(() => createCodec(name, rate), { code: 'UNSUPPORTED' }, `${name}/${rate}`);
		}
		assert.equal(isCodecSupported('opus', 48000), true);
		assert.equal(isCodecSupported('L16', 16000), true);
	});
});

describe('G722Codec', () => {
	it('gives the same bytes and samples as the bare encoder and decoder', () => {
		const pcm = sine(1000, 16000, 200, 8000);
		const codec = new G722Codec();
		const enc = new G722Encoder();
		const dec = new G722Decoder();
		const a = Buffer.alloc(80);
		const b = new Uint8Array(80);
		const outA = new Int16Array(160);
		const outB = new Int16Array(160);
		const all = new Int16Array(pcm.length);
		for (let i = 0; i < pcm.length; i += 160) {
			assert.equal(codec.encode(pcm, i, 160, a, 0), 80);
			enc.encode(pcm, i, 160, b, 0);
			assert.deepEqual([...a], [...b]);
			assert.equal(codec.decodedSamples(80), 160);
			assert.equal(codec.decode(a, 0, 80, outA, 0), 160);
			dec.decode(b, 0, 80, outB, 0);
			assert.deepEqual(outA, outB);
			all.set(outA, i);
		}
		assert.ok(toneRatio(all, 16000, 1000, { from: 320 }) > 0.95);
	});

	it('keeps state per instance: two streams do not disturb each other', () => {
		const x = sine(500, 16000, 100, 8000);
		const y = sine(3000, 16000, 100, 8000);
		const shared = new G722Codec();
		const alone = new G722Codec();
		const bx = Buffer.alloc(x.length / 2);
		const by = Buffer.alloc(y.length / 2);
		const ref = Buffer.alloc(x.length / 2);
		for (let i = 0; i < x.length; i += 320) {
			shared.encode(x, i, 320, bx, i / 2);
			new G722Codec().encode(y, i, 320, by, i / 2);
			alone.encode(x, i, 320, ref, i / 2);
		}
		assert.deepEqual(bx, ref);
	});
});
