import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { goertzelPower, energy, mix, rms, sine, toneRatio, ToneGenerator } from '../../helpers/goertzel.js';

describe('test helper: goertzel', () => {
	it('finds a 440 Hz sine at 440 and not at 1000', () => {
		const s = sine(440, 8000, 1000, 8000);
		assert.equal(s.length, 8000);
		assert.ok(toneRatio(s, 8000, 440) > 0.9, `ratio at 440: ${toneRatio(s, 8000, 440)}`);
		assert.ok(toneRatio(s, 8000, 1000) < 0.01, `ratio at 1000: ${toneRatio(s, 8000, 1000)}`);
	});

	it('splits a mix of two equal tones about half and half', () => {
		const m = mix(sine(440, 8000, 1000, 6000), sine(1000, 8000, 1000, 6000));
		const a = toneRatio(m, 8000, 440);
		const b = toneRatio(m, 8000, 1000);
		assert.ok(a > 0.4 && a < 0.6, `440: ${a}`);
		assert.ok(b > 0.4 && b < 0.6, `1000: ${b}`);
		assert.ok(toneRatio(m, 8000, 2000) < 0.01);
	});

	it('scales goertzelPower like the energy of the tone', () => {
		const s = sine(1000, 8000, 500, 10000);
		const p = goertzelPower(s, 8000, 1000);
		const e = energy(s);
		assert.ok(Math.abs(p / e - 1) < 0.02, `power/energy ${p / e}`);
		// from/to restricts the range
		assert.ok(Math.abs(goertzelPower(s, 8000, 1000, 0, 2000) / energy(s, 0, 2000) - 1) < 0.02);
		assert.equal(goertzelPower(s, 8000, 1000, 10, 10), 0);
	});

	it('works on Float32Array input', () => {
		const f = Float32Array.from(sine(440, 16000, 200, 16000), (v) => v / 32768);
		assert.ok(toneRatio(f, 16000, 440) > 0.9);
	});

	it('gives 0 for silence and an empty input', () => {
		assert.equal(toneRatio(new Int16Array(800), 8000, 440), 0);
		assert.equal(toneRatio(new Int16Array(0), 8000, 440), 0);
		assert.equal(rms(new Int16Array(0)), 0);
	});

	it('computes rms of a sine as amplitude/sqrt(2)', () => {
		const r = rms(sine(500, 8000, 1000, 8000));
		assert.ok(Math.abs(r - 8000 / Math.SQRT2) < 20, `rms ${r}`);
	});

	it('generates phase-continuous frames', () => {
		const g = new ToneGenerator(440, 8000, 8000, 160);
		const whole = new Int16Array(160 * 50);
		for (let i = 0; i < 50; i++) {
			whole.set(g.next(), i * 160);
		}
		const ref = sine(440, 8000, 1000, 8000);
		let maxDiff = 0;
		for (let i = 0; i < whole.length; i++) {
			maxDiff = Math.max(maxDiff, Math.abs((whole[i] as number) - (ref[i] as number)));
		}
		assert.ok(maxDiff <= 2, `max difference to one continuous sine: ${maxDiff}`);
		// one analysis block over the whole (no windows) still sees a clean tone
		assert.ok(goertzelPower(whole, 8000, 440) / energy(whole) > 0.98);
	});
});
