import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goertzelPower, energy, toneAmplitude, toneRatio } from '../../../bench/analysis/goertzel.js';

function sine(n: number, rate: number, freq: number, amp: number): Int16Array {
	const out = new Int16Array(n);
	for (let i = 0; i < n; i++) {
		out[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate));
	}
	return out;
}

test('a pure tone: power ≈ energy, ratio ≈ 1, amplitude recovered', () => {
	const x = sine(8000, 8000, 1000, 10_000);
	assert.ok(Math.abs(goertzelPower(x, 8000, 1000) / energy(x) - 1) < 1e-3);
	assert.ok(toneRatio(x, 8000, 1000) > 0.999);
	assert.ok(toneRatio(x, 8000, 2000) < 1e-4);
	assert.ok(Math.abs(toneAmplitude(x, 8000, 1000) - 10_000) < 20);
});

test('a mixture: each share is its part of the energy; silence is 0', () => {
	const a = sine(8000, 8000, 400, 6000);
	const b = sine(8000, 8000, 2000, 3000);
	const x = new Int16Array(8000);
	for (let i = 0; i < x.length; i++) {
		x[i] = a[i]! + b[i]!;
	}
	assert.ok(Math.abs(toneRatio(x, 8000, 400) - 0.8) < 0.01);
	assert.ok(Math.abs(toneRatio(x, 8000, 2000) - 0.2) < 0.01);
	assert.equal(toneRatio(new Int16Array(100), 8000, 400), 0);
});
