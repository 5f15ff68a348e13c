/**
 * Tone analysis for tests: Goertzel power of one frequency, its share of the
 * total energy, RMS, and sine generators. Independent of src/ so audio checks
 * do not trust the code under test.
 *
 * Units: powers are in "sum of squares" of the input sample units, so that
 * goertzelPower() of a pure tone ≈ the energy (Σx²) of that tone. For Int16
 * input that means int16² units; ratios are unit-free.
 */

export type Samples = Int16Array | Float32Array | Float64Array;

/**
 * Goertzel power at `freq` over samples [from, to), scaled so that a pure
 * sine of any amplitude gives ≈ Σx² of the segment (2·|X(f)|² / N).
 */
export function goertzelPower(samples: Samples, sampleRate: number, freq: number, from = 0, to = samples.length): number {
	const start = Math.max(0, Math.floor(from));
	const end = Math.min(samples.length, Math.floor(to));
	const n = end - start;
	if (n <= 0) {
		return 0;
	}
	const k = 2 * Math.cos((2 * Math.PI * freq) / sampleRate);
	let s1 = 0;
	let s2 = 0;
	for (let i = start; i < end; i++) {
		const s = (samples[i] as number) + k * s1 - s2;
		s2 = s1;
		s1 = s;
	}
	const p = s1 * s1 + s2 * s2 - k * s1 * s2;
	return (2 * p) / n;
}

/** Σx² over samples [from, to). */
export function energy(samples: Samples, from = 0, to = samples.length): number {
	const start = Math.max(0, Math.floor(from));
	const end = Math.min(samples.length, Math.floor(to));
	let e = 0;
	for (let i = start; i < end; i++) {
		const v = samples[i] as number;
		e += v * v;
	}
	return e;
}

/** Root mean square in sample units (0 for an empty input). */
export function rms(samples: Samples, from = 0, to = samples.length): number {
	const start = Math.max(0, Math.floor(from));
	const end = Math.min(samples.length, Math.floor(to));
	const n = end - start;
	return n > 0 ? Math.sqrt(energy(samples, start, end) / n) : 0;
}

/** RMS in dB relative to a full-scale int16 sine (0 dBFS ≙ amplitude 32767). */
export function rmsDbfs(samples: Samples): number {
	const r = rms(samples) / 32768;
	return 20 * Math.log10(r + 1e-12) + 3.01;
}

export interface ToneRatioOptions {
	/** Analysis window in ms (default 50). Windows make the ratio robust to phase jumps. */
	windowMs?: number;
	/** First sample to analyse (default 0). */
	from?: number;
	/** End sample, exclusive (default: all). */
	to?: number;
}

/**
 * Share of the total energy carried by `freq`, in [0, ~1]: a pure tone gives
 * ≈ 1, a mix of two equal tones ≈ 0.5 each, silence 0. Computed per window
 * (sum of Goertzel powers over the sum of window energies) like wavcheck, so a
 * phase discontinuity between packets does not cancel the tone.
 */
export function toneRatio(samples: Samples, sampleRate: number, freq: number, opts: ToneRatioOptions = {}): number {
	const start = Math.max(0, Math.floor(opts.from ?? 0));
	const end = Math.min(samples.length, Math.floor(opts.to ?? samples.length));
	const wlen = Math.max(16, Math.round((sampleRate * (opts.windowMs ?? 50)) / 1000));
	let total = 0;
	let tone = 0;
	for (let w = start; w + wlen <= end; w += wlen) {
		total += energy(samples, w, w + wlen);
		tone += goertzelPower(samples, sampleRate, freq, w, w + wlen);
	}
	if (total === 0) {
		// Shorter than one window: analyse what there is as one block.
		if (end - start > 0 && end - start < wlen) {
			const e = energy(samples, start, end);
			return e > 0 ? goertzelPower(samples, sampleRate, freq, start, end) / e : 0;
		}
		return 0;
	}
	return tone / total;
}

/** `ms` of a sine at `freq` Hz, `rate` Hz sampling, peak `amplitude` (int16 units). */
export function sine(freq: number, rate: number, ms: number, amplitude = 8000): Int16Array {
	const n = Math.round((rate * ms) / 1000);
	const out = new Int16Array(n);
	const w = (2 * Math.PI * freq) / rate;
	for (let i = 0; i < n; i++) {
		out[i] = Math.round(amplitude * Math.sin(w * i));
	}
	return out;
}

/** Sample-wise saturating sum of int16 signals (for making test mixes). */
export function mix(...signals: Int16Array[]): Int16Array {
	const n = Math.max(0, ...signals.map((s) => s.length));
	const out = new Int16Array(n);
	for (let i = 0; i < n; i++) {
		let v = 0;
		for (const s of signals) {
			v += s[i] ?? 0;
		}
		out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
	}
	return out;
}

/**
 * Phase-continuous tone source: each `next()` returns the following frame of
 * `frameSamples` samples, so concatenated frames are one clean sine (no clicks
 * at frame borders). `freq` 0 (or amplitude 0) gives silence.
 */
export class ToneGenerator {
	readonly freq: number;
	readonly rate: number;
	readonly amplitude: number;
	readonly frameSamples: number;
	#phase = 0;
	readonly #step: number;

	constructor(freq: number, rate = 8000, amplitude = 8000, frameSamples = Math.round(rate / 50)) {
		if (!(rate > 0) || !Number.isInteger(frameSamples) || frameSamples <= 0) {
			throw new TypeError('ToneGenerator: rate must be > 0 and frameSamples a positive integer');
		}
		this.freq = freq;
		this.rate = rate;
		this.amplitude = amplitude;
		this.frameSamples = frameSamples;
		this.#step = (2 * Math.PI * freq) / rate;
	}

	/** The next frame. Pass `out` to fill a preallocated buffer instead. */
	next(out: Int16Array = new Int16Array(this.frameSamples)): Int16Array {
		for (let i = 0; i < out.length; i++) {
			out[i] = Math.round(this.amplitude * Math.sin(this.#phase));
			this.#phase += this.#step;
		}
		// Keep the phase small so precision does not degrade over long runs.
		this.#phase %= 2 * Math.PI;
		return out;
	}
}
