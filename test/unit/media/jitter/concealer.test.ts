import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Concealer } from '../../../../src/media/jitter/concealer.js';
import { rms, sine } from '../../../helpers/goertzel.js';

function db(x: number): number {
	return 20 * Math.log10(x);
}

describe('Concealer', () => {
	it('repeats the last good frame fading 6 dB per frame, then silence', () => {
		const c = new Concealer(160);
		const good = sine(400, 8000, 20, 10000);
		c.good(good, 0, 160);
		const level = rms(good);
		const out = new Int16Array(160);
		const levels: number[] = [];
		const ends: number[] = [];
		for (let k = 1; k <= 7; k++) {
			c.conceal(out, 0, 160);
			assert.equal(c.run, k);
			levels.push(rms(out));
			ends.push(Math.abs(out[159]!));
		}
		// Each frame is quieter than the one before, by about 6 dB (linear ramps inside).
		for (let k = 1; k < 4; k++) {
			const step = db(levels[k - 1]!) - db(levels[k]!);
			assert.ok(step > 4.5 && step < 7.5, `frame ${k + 1}: ${step.toFixed(1)} dB quieter`);
		}
		// The first concealed frame starts at full level.
		assert.ok(db(levels[0]!) - db(level) > -4);
		// The fifth fades to zero; after it there is only silence.
		assert.ok(ends[4]! <= 10, `last sample ${ends[4]}`);
		assert.equal(levels[5], 0);
		assert.equal(levels[6], 0);
	});

	it('continues from the last sample without a jump (mirrored repeats)', () => {
		const c = new Concealer(160);
		const good = sine(330, 8000, 20, 12000);
		c.good(good, 0, 160);
		const a = new Int16Array(160);
		const b = new Int16Array(160);
		c.conceal(a, 0, 160);
		c.conceal(b, 0, 160);
		assert.equal(a[0], good[159]);
		// At the border between repeats the samples meet (b starts where a ended, up to the gain ramp).
		assert.ok(Math.abs(b[0]! - a[159]!) <= Math.abs(good[0]!) * 0.02 + 2);
	});

	it('starts over at full level after the next good frame', () => {
		const c = new Concealer(160);
		const good = new Int16Array(160).fill(8000);
		const out = new Int16Array(160);
		c.good(good, 0, 160);
		for (let k = 0; k < 6; k++) {
			c.conceal(out, 0, 160);
		}
		assert.equal(rms(out), 0);
		c.good(good, 0, 160);
		assert.equal(c.run, 0);
		c.conceal(out, 0, 160);
		assert.equal(out[0], 8000);
	});

	it('gives silence before any good frame and after reset()', () => {
		const c = new Concealer(160);
		const out = new Int16Array(160).fill(123);
		c.conceal(out, 0, 160);
		assert.equal(rms(out), 0);
		c.good(new Int16Array(160).fill(1000), 0, 160);
		c.reset();
		out.fill(5);
		c.conceal(out, 0, 160);
		assert.equal(rms(out), 0);
	});

	it('writes only the requested range', () => {
		const c = new Concealer(160);
		c.good(new Int16Array(160).fill(1000), 0, 160);
		const out = new Int16Array(200).fill(-7);
		c.conceal(out, 20, 160);
		assert.equal(out[19], -7);
		assert.equal(out[180], -7);
		assert.equal(out[20], 1000);
	});
});
