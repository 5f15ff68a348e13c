import type { TickDurationStats } from './protocol.js';

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
