/**
 * Goertzel single-frequency analysis. Powers are scaled so that a pure sine
 * over a whole number of periods gives its energy Σx², which makes
 * power / energy a unit-free "share of the signal at this frequency" in [0, 1].
 */

export type Samples = Int16Array | Float32Array | Float64Array;

/** Goertzel power at `freq` over samples [from, to): 2·|X(f)|² / N. */
export function goertzelPower(samples: Samples, sampleRate: number, freq: number, from = 0, to = samples.length): number {
	const start = Math.max(0, from | 0);
	const end = Math.min(samples.length, to | 0);
	const n = end - start;
	if (n <= 0) {
		return 0;
	}
	const k = 2 * Math.cos((2 * Math.PI * freq) / sampleRate);
	let s1 = 0;
	let s2 = 0;
	for (let i = start; i < end; i++) {
		const s = samples[i]! + k * s1 - s2;
		s2 = s1;
		s1 = s;
	}
	return (2 * (s1 * s1 + s2 * s2 - k * s1 * s2)) / n;
}

/** Σx² over samples [from, to). */
export function energy(samples: Samples, from = 0, to = samples.length): number {
	let e = 0;
	const end = Math.min(samples.length, to);
	for (let i = Math.max(0, from); i < end; i++) {
		const v = samples[i]!;
		e += v * v;
	}
	return e;
}

/** Share of the energy of [from, to) at `freq` (0 for silence). */
export function toneRatio(samples: Samples, sampleRate: number, freq: number, from = 0, to = samples.length): number {
	const e = energy(samples, from, to);
	return e > 0 ? Math.min(1, goertzelPower(samples, sampleRate, freq, from, to) / e) : 0;
}

/** Amplitude (peak, sample units) of the component at `freq` in [from, to). */
export function toneAmplitude(samples: Samples, sampleRate: number, freq: number, from = 0, to = samples.length): number {
	const n = Math.min(samples.length, to) - Math.max(0, from);
	return n > 0 ? Math.sqrt((2 * goertzelPower(samples, sampleRate, freq, from, to)) / n) : 0;
}
