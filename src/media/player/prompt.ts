import { resolve } from 'node:path';
import { Resampler } from '../codecs/resample.js';
import { readWav } from '../wav.js';

/**
 * A piece of audio to play: PCM16 mono at a sample rate. Players need it at
 * their own rate (a leg's or a room's mix rate); at(rate) converts once with
 * the anti-aliasing resampler and keeps the result, so a prompt played a
 * thousand times is converted once per rate.
 */
export class Prompt {
	readonly name: string;
	readonly sampleRate: number;
	readonly samples: Int16Array;
	readonly #converted = new Map<number, Prompt>();

	constructor(samples: Int16Array, sampleRate: number, name = 'prompt') {
		if (!Number.isInteger(sampleRate) || sampleRate <= 0) {
			throw new RangeError(`prompt sample rate ${sampleRate} is invalid`);
		}
		this.samples = samples;
		this.sampleRate = sampleRate;
		this.name = name;
		this.#converted.set(sampleRate, this);
	}

	/** Loads a PCM16 mono WAV file (any rate). */
	static async fromWav(path: string): Promise<Prompt> {
		const { samples, sampleRate } = await readWav(path);
		return new Prompt(samples, sampleRate, path);
	}

	/** A sine tone (join/leave beeps, tests). */
	static tone(freq: number, ms: number, sampleRate: number, amplitude = 8000): Prompt {
		const n = Math.round((ms * sampleRate) / 1000);
		const s = new Int16Array(n);
		for (let i = 0; i < n; i++) {
			s[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / sampleRate));
		}
		return new Prompt(s, sampleRate, `tone ${freq} Hz`);
	}

	static silence(ms: number, sampleRate: number): Prompt {
		return new Prompt(new Int16Array(Math.round((ms * sampleRate) / 1000)), sampleRate, 'silence');
	}

	get durationMs(): number {
		return (this.samples.length * 1000) / this.sampleRate;
	}

	/** Times this prompt was actually converted (not served from the cache). */
	get conversions(): number {
		return this.#conversions;
	}

	#conversions = 0;

	/**
	 * The prompt at `rate`: itself, or a converted copy made on the first
	 * call and kept. Rates must be integer multiples of each other (8, 16,
	 * 48 kHz …); a 44.1 kHz file cannot be played in a 16 kHz room.
	 */
	at(rate: number): Prompt {
		let p = this.#converted.get(rate);
		if (p === undefined) {
			p = new Prompt(convert(this.samples, this.sampleRate, rate, this.name), rate, this.name);
			this.#conversions++;
			this.#converted.set(rate, p);
		}
		return p;
	}
}

/** Resamples a whole clip, compensating the filter delay and keeping its tail. */
function convert(samples: Int16Array, from: number, to: number, name: string): Int16Array {
	const hi = Math.max(from, to);
	const lo = Math.min(from, to);
	if (hi % lo !== 0) {
		throw new RangeError(`${name}: cannot convert ${from} Hz to ${to} Hz (not an integer ratio; use 8000, 16000 or 48000 Hz files)`);
	}
	const ratio = hi / lo;
	const rs = new Resampler(from, to);
	// The filter's delay, (taps - 1) / 2 at the higher rate (see Resampler), in output samples.
	const delay = Math.floor((((ratio * 48 - 1) / 2) * to) / hi);
	// Enough zeros after the clip to flush the delay out, rounded to whole input groups.
	const padIn = Math.ceil(((delay + 1) * from) / to / ratio + 1) * ratio;
	const input = new Int16Array(samples.length + padIn);
	input.set(samples);
	const full = new Int16Array(rs.outputLength(input.length));
	rs.process(input, 0, input.length, full, 0);
	const n = Math.round((samples.length * to) / from);
	return full.slice(delay, delay + n);
}

/**
 * Prompt files loaded once and converted once per rate: get(file, rate)
 * returns the same Prompt object every time. A load in progress is shared,
 * and a failed load is forgotten so a fixed file can be retried.
 */
export class PromptCache {
	readonly #files = new Map<string, Promise<Prompt>>();

	get(file: string, rate: number): Promise<Prompt> {
		const key = resolve(file);
		let p = this.#files.get(key);
		if (p === undefined) {
			p = Prompt.fromWav(key);
			this.#files.set(key, p);
			p.catch(() => {
				if (this.#files.get(key) === p) {
					this.#files.delete(key);
				}
			});
		}
		return p.then((prompt) => prompt.at(rate));
	}

	/** Files cached (loaded or loading). */
	get size(): number {
		return this.#files.size;
	}

	clear(): void {
		this.#files.clear();
	}
}
