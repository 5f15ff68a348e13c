import type { TickDurationStats, TickHistogram } from './protocol.js';

/** Ticks the percentiles cover: 1024 × 20 ms ≈ the last 20 seconds. */
export const TICK_WINDOW = 1024;

/**
 * The most recent tick durations, in a preallocated ring (the tick only
 * stores a number). Percentiles are computed on demand, off the tick path,
 * by sorting a copy in a second preallocated array.
 */
export class TickWindow {
	readonly #durations: Float64Array;
	readonly #scratch: Float64Array;
	readonly #mask: number;
	#n = 0;

	constructor(size = TICK_WINDOW) {
		if (size <= 0 || (size & (size - 1)) !== 0) {
			throw new TypeError('window size must be a power of two');
		}
		this.#durations = new Float64Array(size);
		this.#scratch = new Float64Array(size);
		this.#mask = size - 1;
	}

	record(us: number): void {
		this.#durations[this.#n & this.#mask] = us;
		this.#n++;
	}

	reset(): void {
		this.#n = 0;
	}

	/** Nearest-rank percentiles over the window; zeros before the first tick. */
	stats(): TickDurationStats {
		const count = Math.min(this.#n, this.#durations.length);
		if (count === 0) {
			return { p50: 0, p99: 0, max: 0, samples: 0 };
		}
		const sorted = this.#scratch.subarray(0, count);
		sorted.set(this.#durations.subarray(0, count));
		sorted.sort();
		const rank = (p: number): number => sorted[Math.max(0, Math.ceil(p * count) - 1)]!;
		return { p50: rank(0.5), p99: rank(0.99), max: sorted[count - 1]!, samples: count };
	}
}

/** Upper bounds (µs) of the tick histogram: 20 ms is one whole frame. */
export const TICK_BUCKETS_US = [50, 100, 250, 500, 1000, 2500, 5000, 10000, 20000, 50000];

/**
 * Cumulative histogram of tick durations since start; record() is a few
 * compares and one increment, no allocation.
 */
export class TickHistogramAccumulator {
	readonly #counts = new Float64Array(TICK_BUCKETS_US.length);
	#sum = 0;
	#count = 0;

	record(us: number): void {
		this.#sum += us;
		this.#count++;
		for (let i = 0; i < TICK_BUCKETS_US.length; i++) {
			if (us <= TICK_BUCKETS_US[i]!) {
				this.#counts[i]!++;
				return;
			}
		}
	}

	snapshot(): TickHistogram {
		const counts: number[] = [];
		let acc = 0;
		for (let i = 0; i < this.#counts.length; i++) {
			acc += this.#counts[i]!;
			counts.push(acc);
		}
		return { boundsUs: [...TICK_BUCKETS_US], counts, sumUs: this.#sum, count: this.#count };
	}
}
