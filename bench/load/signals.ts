/**
 * What the bench's callers say, as 20 ms PCM frames built once before a run:
 * steady tones (one frequency per caller, all multiples of 200 Hz so the
 * marker detector's 5 ms window nulls them), speech-like talk (a 200 Hz
 * voice with harmonics up to 1.4 kHz, in syllables of 120-280 ms), silence,
 * and the marker burst (e.g. 2 kHz for 60 ms, starting on a frame boundary)
 * used to time the delay through the server.
 */

/** Deterministic PRNG (mulberry32) so every run sends the same audio. */
export function prng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** Tone frequencies handed to talkers in turn (none near the 2 kHz marker). */
export const TALKER_TONES = [400, 600, 800, 1000, 1200, 1400, 1600, 2600, 2800, 3000];

function frameCountForTone(freq: number, rate: number, frameSamples: number): number {
	for (let n = 1; n <= 50; n++) {
		if (((n * frameSamples * freq) % rate) === 0) {
			return n;
		}
	}
	return 50;
}

/** A tone that loops seamlessly over the returned whole number of frames. */
export function toneFrames(freq: number, amplitude: number, rate: number, frameSamples: number): Int16Array {
	const frames = frameCountForTone(freq, rate, frameSamples);
	const out = new Int16Array(frames * frameSamples);
	for (let i = 0; i < out.length; i++) {
		out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
	}
	return out;
}

/** `seconds` of speech-like talk: syllables of a harmonic 200 Hz voice separated by short gaps. */
export function speechFrames(seed: number, amplitude: number, rate: number, frameSamples: number, seconds = 4): Int16Array {
	const frames = Math.round((seconds * 1000) / 20);
	const out = new Int16Array(frames * frameSamples);
	const rnd = prng(seed);
	const harmonics = [1, 0.8, 0.6, 0.45, 0.3, 0.2, 0.12];
	const norm = harmonics.reduce((a, b) => a + b, 0);
	const phases = harmonics.map(() => rnd() * 2 * Math.PI);
	let i = 0;
	while (i < out.length) {
		const syl = Math.round(((120 + rnd() * 160) * rate) / 1000);
		const gap = Math.round(((40 + rnd() * 120) * rate) / 1000);
		const level = 0.6 + 0.4 * rnd();
		const ramp = Math.round(0.02 * rate);
		for (let j = 0; j < syl && i < out.length; j++, i++) {
			const env = Math.min(1, j / ramp, (syl - j) / ramp) * level;
			let v = 0;
			for (let h = 0; h < harmonics.length; h++) {
				v += harmonics[h]! * Math.sin((2 * Math.PI * 200 * (h + 1) * i) / rate + phases[h]!);
			}
			out[i] = Math.round((amplitude * env * v) / norm);
		}
		i += gap;
	}
	return out;
}

export function silenceFrames(frameSamples: number): Int16Array {
	return new Int16Array(frameSamples);
}

/** The marker: `ms` of `freq` at `amplitude`, phase 0 on the first sample, padded to whole frames. */
export function markerFrames(freq: number, amplitude: number, ms: number, rate: number, frameSamples: number): Int16Array {
	const n = Math.round((ms * rate) / 1000);
	const frames = Math.ceil(n / frameSamples);
	const out = new Int16Array(frames * frameSamples);
	for (let i = 0; i < n; i++) {
		out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
	}
	return out;
}

/**
 * Talk-spurt / pause pattern for the 'bursts' talker mode, in frames: a
 * two-state on/off model with exponential durations (mean talk spurt 1.0 s,
 * mean pause 1.6 s, as in ITU-T P.59 conversational speech).
 */
export function spurtLengths(seed: number, count: number): Uint16Array {
	const rnd = prng(seed);
	const out = new Uint16Array(count);
	for (let i = 0; i < count; i++) {
		const meanMs = i % 2 === 0 ? 1000 : 1600;
		const ms = -Math.log(1 - rnd()) * meanMs;
		out[i] = Math.max(5, Math.min(500, Math.round(ms / 20)));
	}
	return out;
}
