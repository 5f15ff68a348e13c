import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Resampler } from '../../../../src/media/codecs/resample.js';
import { goertzelPower, mix, sine, toneRatio } from '../../../helpers/goertzel.js';

/** Runs the whole signal through r in 20 ms frames. */
function run(r: Resampler, input: Int16Array): Int16Array {
	const inFrame = r.fromRate / 50;
	const outFrame = r.toRate / 50;
	const out = new Int16Array((input.length / inFrame) * outFrame);
	for (let i = 0, o = 0; i < input.length; i += inFrame, o += outFrame) {
		assert.equal(r.process(input, i, inFrame, out, o), outFrame);
	}
	return out;
}

/** Level of freq in samples[from:] relative to a reference power, in dB. */
function levelDb(samples: Int16Array, rate: number, freq: number, from: number, refPower: number): number {
	const p = goertzelPower(samples, rate, freq, from) / (samples.length - from);
	return 10 * Math.log10(Math.max(p, 1e-12) / refPower);
}

/** Mean power per sample of a sine of this amplitude. */
function sinePower(amplitude: number): number {
	return (amplitude * amplitude) / 2;
}

function describeDb(db: number): string {
	// The floor of levelDb(): nothing survived the rounding to int16.
	return db < -150 ? 'below 1 LSB (output is all zeros)' : `${db.toFixed(1)} dB`;
}

const PAIRS = [
	[8000, 16000],
	[16000, 8000],
	[8000, 48000],
	[48000, 8000],
	[16000, 48000],
	[48000, 16000],
] as const;

describe('Resampler', () => {
	for (const [from, to] of PAIRS) {
		it(`${from} → ${to}: 20 ms in gives 20 ms out and passes 1 kHz at unity gain`, () => {
			const input = sine(1000, from, 500, 10000);
			const out = run(new Resampler(from, to), input);
			assert.equal(out.length, (to / 1000) * 500);
			const skip = to / 10;
			const db = levelDb(out, to, 1000, skip, sinePower(10000));
			assert.ok(Math.abs(db) < 0.1, `1 kHz level ${db.toFixed(2)} dB`);
			assert.ok(toneRatio(out, to, 1000, { from: skip }) > 0.999);
		});
	}

	it('is the identity when the rates are equal', () => {
		const input = sine(1234, 16000, 20, 20000);
		const out = new Int16Array(320);
		assert.equal(new Resampler(16000, 16000).process(input, 0, 320, out, 0), 320);
		assert.deepEqual(out, input);
	});

	it('passes a 1 kHz tone 8k → 16k → 8k with > 0.9 of its energy', () => {
		const input = sine(1000, 8000, 1000, 10000);
		const back = run(new Resampler(16000, 8000), run(new Resampler(8000, 16000), input));
		const skip = 800;
		const ratio = goertzelPower(back, 8000, 1000, skip) / goertzelPower(input, 8000, 1000, skip);
		assert.ok(ratio > 0.9, `energy ratio ${ratio}`);
		assert.ok(toneRatio(back, 8000, 1000, { from: skip }) > 0.999);
	});

	it('attenuates a 6 kHz tone by > 40 dB going 16k → 8k (no alias at 2 kHz)', (t) => {
		const out = run(new Resampler(16000, 8000), sine(6000, 16000, 500, 16000));
		const alias = levelDb(out, 8000, 2000, 800, sinePower(16000));
		t.diagnostic(`2 kHz alias: ${describeDb(alias)}`);
		assert.ok(alias < -40);
	});

	it('attenuates a 15 kHz tone by > 40 dB going 48k → 16k (no alias at 1 kHz)', (t) => {
		const out = run(new Resampler(48000, 16000), sine(15000, 48000, 500, 16000));
		const alias = levelDb(out, 16000, 1000, 1600, sinePower(16000));
		t.diagnostic(`1 kHz alias: ${describeDb(alias)}`);
		assert.ok(alias < -40);
	});

	it('keeps the passband and removes what the lower rate cannot carry, 48k → 8k', () => {
		const input = mix(sine(500, 48000, 500, 8000), sine(2500, 48000, 500, 8000), sine(11000, 48000, 500, 8000));
		const out = run(new Resampler(48000, 8000), input);
		const ref = sinePower(8000);
		assert.ok(Math.abs(levelDb(out, 8000, 500, 800, ref)) < 0.1);
		assert.ok(Math.abs(levelDb(out, 8000, 2500, 800, ref)) < 0.1);
		// 11 kHz would fold to 3 kHz at an 8 kHz rate.
		assert.ok(levelDb(out, 8000, 3000, 800, ref) < -60);
	});

	it('leaves no images when upsampling 8k → 48k', () => {
		const out = run(new Resampler(8000, 48000), sine(1000, 8000, 500, 16000));
		const ref = sinePower(16000);
		// Zero stuffing would put copies at k·8000 ± 1000.
		for (const f of [7000, 9000, 15000, 17000, 23000]) {
			assert.ok(levelDb(out, 48000, f, 4800, ref) < -60, `image at ${f} Hz`);
		}
	});

	for (const [from, to] of PAIRS) {
		it(`${from} → ${to}: 20 ms frames give the same samples as one call`, () => {
			const input = mix(sine(440, from, 300, 9000), sine(2900, from, 300, 7000));
			const whole = new Int16Array((input.length * to) / from);
			const r = new Resampler(from, to);
			assert.equal(r.process(input, 0, input.length, whole, 0), whole.length);
			assert.deepEqual(run(new Resampler(from, to), input), whole);
			// Odd chunk sizes too: the phase within a decimation group carries over.
			const chunked = new Int16Array(whole.length);
			const c = new Resampler(from, to);
			let o = 0;
			for (let i = 0; i < input.length; i += 7) {
				o += c.process(input, i, Math.min(7, input.length - i), chunked, o);
			}
			assert.equal(o, whole.length);
			assert.deepEqual(chunked, whole);
		});
	}

	it('reset() starts a new stream', () => {
		const input = sine(700, 16000, 100, 12000);
		const r = new Resampler(16000, 48000);
		const a = run(r, input);
		r.reset();
		assert.deepEqual(run(r, input), a);
	});

	it('saturates instead of wrapping on full-scale square waves', () => {
		const input = new Int16Array(1600);
		for (let i = 0; i < input.length; i++) {
			input[i] = (i >> 4) & 1 ? 32767 : -32768;
		}
		const out = run(new Resampler(16000, 48000), input);
		// Gibbs overshoot must clip at the rails, never flip sign mid-plateau.
		for (let i = 1000; i < out.length; i++) {
			const v = out[i] as number;
			const prev = out[i - 1] as number;
			assert.ok(!(Math.abs(v - prev) > 40000), `jump at ${i}`);
		}
	});

	it('rejects rates that are not an integer ratio, and short outputs', () => {
		assert.throws(() => new Resampler(8000, 12345), RangeError);
		assert.throws(() => new Resampler(0, 8000), RangeError);
		assert.throws(() => new Resampler(44100, 48000), RangeError);
		const r = new Resampler(8000, 16000);
		assert.throws(() => r.process(new Int16Array(160), 0, 160, new Int16Array(319), 0), RangeError);
		assert.throws(() => r.process(new Int16Array(160), 10, 160, new Int16Array(320), 0), RangeError);
	});
});
