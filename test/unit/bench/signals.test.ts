import { test } from 'node:test';
import assert from 'node:assert/strict';
import { markerFrames, prng, speechFrames, spurtLengths, toneFrames, TALKER_TONES } from '../../../bench/load/signals.js';
import { toneRatio } from '../../../bench/analysis/goertzel.js';
import { codecProfile } from '../../../bench/codec/profiles.js';

test('tones loop seamlessly over whole frames', () => {
	for (const f of TALKER_TONES) {
		const t = toneFrames(f, 2000, 8000, 160);
		assert.equal(t.length % 160, 0);
		// The sample after the table is the first one again: phase continuity.
		const next = Math.round(2000 * Math.sin((2 * Math.PI * f * t.length) / 8000));
		assert.ok(Math.abs(next - t[0]!) <= 1, `${f} Hz`);
		assert.ok(f % 200 === 0 && Math.abs(f - 2000) >= 400, 'talker tones sit on the detector nulls, away from the marker');
	}
});

test('speech-like frames: energy below 1.5 kHz, none at the marker', () => {
	const s = speechFrames(7, 3000, 8000, 160, 2);
	assert.equal(s.length, 100 * 160);
	assert.ok(toneRatio(s, 8000, 200) > 0.1);
	assert.ok(toneRatio(s, 8000, 2000) < 0.001);
});

test('marker: the tone starts on the first sample and is padded to frames', () => {
	const m = markerFrames(2000, 8000, 60, 8000, 160);
	assert.equal(m.length, 480);
	assert.equal(m[0], 0);
	assert.equal(m[1], 8000);
	assert.ok(toneRatio(m, 8000, 2000) > 0.99);
	assert.equal(markerFrames(2000, 8000, 50, 8000, 160).length, 480);
});

test('prng and talk spurts are deterministic and bounded', () => {
	const a = prng(1);
	const b = prng(1);
	for (let i = 0; i < 10; i++) {
		assert.equal(a(), b());
	}
	const sp = spurtLengths(3, 200);
	assert.ok(sp.every((v) => v >= 5 && v <= 500));
	const talk = sp.filter((_, i) => i % 2 === 0);
	const mean = talk.reduce((x, y) => x + y, 0) / talk.length;
	assert.ok(mean > 30 && mean < 80, `mean talk spurt ${mean} frames`);
});

test('codec profiles: frame tables and decoders round-trip a tone', () => {
	for (const name of ['pcmu', 'pcma', 'g722'] as const) {
		const p = codecProfile(name);
		const pcm = toneFrames(1000, 8000, p.sampleRate, p.frameSamples);
		const table = p.encodeTable(new Int16Array([...pcm, ...pcm, ...pcm, ...pcm]));
		assert.equal(table.frames, (4 * pcm.length) / p.frameSamples);
		const dec = p.createDecoder();
		const out = new Int16Array(p.frameSamples);
		// Stateful codecs (G.722) decode in order.
		for (let k = 0; k < table.frames; k++) {
			const n = dec.decode(table.data, table.offsets[k]!, table.offsets[k + 1]! - table.offsets[k]!, out);
			assert.equal(n, p.frameSamples);
		}
		assert.ok(toneRatio(out, p.sampleRate, 1000) > 0.9, name);
	}
});
