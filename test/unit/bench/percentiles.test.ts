import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, SampleSet, percentile, percentileSorted, summarize } from '../../../bench/analysis/percentiles.js';

test('nearest-rank percentiles of 1..100', () => {
	const v = Array.from({ length: 100 }, (_, i) => 100 - i);
	assert.equal(percentile(v, 0.5), 50);
	assert.equal(percentile(v, 0.9), 90);
	assert.equal(percentile(v, 0.99), 99);
	assert.equal(percentile(v, 1), 100);
	assert.equal(percentile(v, 0), 1);
	assert.equal(percentileSorted([], 0.5), 0);
	assert.throws(() => percentile(v, 1.5), RangeError);
});

test('summary of a small set, NaN ignored', () => {
	const s = summarize([3, 1, NaN, 2, 10]);
	assert.deepEqual(s, { count: 4, min: 1, mean: 4, p50: 2, p90: 10, p99: 10, max: 10 });
	assert.equal(summarize([]).count, 0);
});

test('SampleSet grows and summarises', () => {
	const s = new SampleSet(16);
	for (let i = 1; i <= 1000; i++) {
		s.push(i);
	}
	assert.equal(s.length, 1000);
	assert.equal(s.summary().p99, 990);
	s.clear();
	assert.equal(s.length, 0);
});

test('histogram buckets, quantile, merge', () => {
	const h = new Histogram([1, 2, 5, 10]);
	for (const v of [0.5, 1, 1.5, 3, 7, 7, 20]) {
		h.record(v);
	}
	assert.deepEqual(Array.from(h.counts), [2, 1, 1, 2, 1]);
	assert.equal(h.total, 7);
	assert.equal(h.quantile(0.5), 5);
	assert.equal(h.quantile(1), Infinity);
	const h2 = new Histogram([1, 2, 5, 10]);
	h2.record(1.2, 3);
	h.merge(h2);
	assert.deepEqual(Array.from(h.counts), [2, 4, 1, 2, 1]);
	assert.throws(() => h.merge(new Histogram([1, 2])), RangeError);
	assert.throws(() => new Histogram([2, 1]), RangeError);
	const e = Histogram.exponential(1, 2, 100);
	assert.deepEqual(Array.from(e.bounds), [1, 2, 4, 8, 16, 32, 64, 128]);
});
