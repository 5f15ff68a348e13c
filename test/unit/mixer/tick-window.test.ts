import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TickWindow } from '../../../src/mixer/tick-window.js';

describe('TickWindow', () => {
	it('reports zeros before the first tick', () => {
		assert.deepEqual(new TickWindow(8).stats(), { p50: 0, p99: 0, max: 0, samples: 0 });
	});

	it('gives nearest-rank percentiles whatever the order of arrival', () => {
		const w = new TickWindow(128);
		// 1..100 shuffled deterministically (37 is coprime with 100).
		for (let i = 0; i < 100; i++) {
			w.record(((i * 37) % 100) + 1);
		}
		assert.deepEqual(w.stats(), { p50: 50, p99: 99, max: 100, samples: 100 });
	});

	it('covers only the most recent window', () => {
		const w = new TickWindow(4);
		for (let i = 1; i <= 10; i++) {
			w.record(i * 10);
		}
		assert.deepEqual(w.stats(), { p50: 80, p99: 100, max: 100, samples: 4 });
		w.reset();
		assert.equal(w.stats().samples, 0);
	});

	it('insists on a power-of-two size', () => {
		assert.throws(() => new TickWindow(100), TypeError);
	});
});
