/**
 * Order statistics for the bench: nearest-rank percentiles, a summary of a
 * sample set, a grow-only sample store and a fixed-bucket histogram.
 */

export interface Summary {
	count: number;
	min: number;
	mean: number;
	p50: number;
	p90: number;
	p99: number;
	max: number;
}

export const EMPTY_SUMMARY: Summary = Object.freeze({ count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });

/**
 * Nearest-rank percentile (p in [0, 1]) of an ascending array: the smallest
 * value with at least p·n values at or below it. 0 for an empty input.
 */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
	const n = sorted.length;
	if (n === 0) {
		return 0;
	}
	if (!(p >= 0 && p <= 1)) {
		throw new RangeError(`percentile must be in [0, 1], got ${p}`);
	}
	const rank = Math.max(1, Math.ceil(p * n));
	return sorted[rank - 1]!;
}

/** Nearest-rank percentile of an unsorted input (copied, not modified). */
export function percentile(values: ArrayLike<number>, p: number): number {
	const sorted = Float64Array.from(values as ArrayLike<number>).sort();
	return percentileSorted(sorted, p);
}

/** count, min, mean, p50, p90, p99, max of the input (NaNs ignored). */
export function summarize(values: ArrayLike<number>): Summary {
	const copy = new Float64Array(values.length);
	let n = 0;
	let sum = 0;
	for (let i = 0; i < values.length; i++) {
		const v = values[i]!;
		if (!Number.isNaN(v)) {
			copy[n++] = v;
			sum += v;
		}
	}
	if (n === 0) {
		return { ...EMPTY_SUMMARY };
	}
	const sorted = copy.subarray(0, n).sort();
	return {
		count: n,
		min: sorted[0]!,
		mean: sum / n,
		p50: percentileSorted(sorted, 0.5),
		p90: percentileSorted(sorted, 0.9),
		p99: percentileSorted(sorted, 0.99),
		max: sorted[n - 1]!,
	};
}

/** Grow-only store of numbers (doubles its Float64Array when full). */
export class SampleSet {
	#buf: Float64Array;
	#n = 0;

	constructor(initialCapacity = 1024) {
		this.#buf = new Float64Array(Math.max(16, initialCapacity));
	}

	get length(): number {
		return this.#n;
	}

	push(v: number): void {
		if (this.#n === this.#buf.length) {
			const next = new Float64Array(this.#buf.length * 2);
			next.set(this.#buf);
			this.#buf = next;
		}
		this.#buf[this.#n++] = v;
	}

	clear(): void {
		this.#n = 0;
	}

	/** A view over the stored values (valid until the next push). */
	view(): Float64Array {
		return this.#buf.subarray(0, this.#n);
	}

	toArray(): number[] {
		return Array.from(this.view());
	}

	summary(): Summary {
		return summarize(this.view());
	}
}

/**
 * Fixed-bucket histogram: `bounds` are ascending upper bounds (inclusive);
 * one more bucket counts everything above the last bound. Recording is one
 * binary search and an increment, so it can sit on a hot path.
 */
export class Histogram {
	readonly bounds: Float64Array;
	readonly counts: Float64Array;
	#total = 0;

	constructor(bounds: ArrayLike<number>) {
		this.bounds = Float64Array.from(bounds as ArrayLike<number>);
		for (let i = 1; i < this.bounds.length; i++) {
			if (!(this.bounds[i]! > this.bounds[i - 1]!)) {
				throw new RangeError('histogram bounds must be strictly ascending');
			}
		}
		this.counts = new Float64Array(this.bounds.length + 1);
	}

	/** Bounds growing by `factor` from `first` up to at least `last`. */
	static exponential(first: number, factor: number, last: number): Histogram {
		const b: number[] = [];
		for (let v = first; b.length < 512; v *= factor) {
			b.push(v);
			if (v >= last) {
				break;
			}
		}
		return new Histogram(b);
	}

	get total(): number {
		return this.#total;
	}

	record(v: number, count = 1): void {
		const b = this.bounds;
		let lo = 0;
		let hi = b.length;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (v <= b[mid]!) {
				hi = mid;
			} else {
				lo = mid + 1;
			}
		}
		this.counts[lo]! += count;
		this.#total += count;
	}

	merge(other: Histogram): void {
		if (other.bounds.length !== this.bounds.length || other.bounds.some((v, i) => v !== this.bounds[i])) {
			throw new RangeError('cannot merge histograms with different bounds');
		}
		for (let i = 0; i < this.counts.length; i++) {
			this.counts[i]! += other.counts[i]!;
		}
		this.#total += other.total;
	}

	/** Upper bound of the bucket holding the nearest-rank p-quantile (Infinity for the overflow bucket). */
	quantile(p: number): number {
		if (this.#total === 0) {
			return 0;
		}
		const rank = Math.max(1, Math.ceil(p * this.#total));
		let acc = 0;
		for (let i = 0; i < this.counts.length; i++) {
			acc += this.counts[i]!;
			if (acc >= rank) {
				return i < this.bounds.length ? this.bounds[i]! : Infinity;
			}
		}
		return Infinity;
	}

	toJSON(): { bounds: number[]; counts: number[] } {
		return { bounds: Array.from(this.bounds), counts: Array.from(this.counts) };
	}
}
