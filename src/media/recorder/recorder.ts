import { WavWriter } from '../wav.js';

export interface RecordOptions {
	/** WAV file to write (PCM16 mono at the leg's or room's mix rate). */
	path: string;
	/** Longest recording (wall time from the start); the recording then stops by itself. Default: no limit. */
	maxMs?: number;
	/**
	 * Drop the silence before the first and after the last sound (a name
	 * announcement, a voicemail); a short margin stays on each side. Default false.
	 */
	trimSilence?: boolean;
	/** Stop by itself after this much silence following some sound ("say your name after the tone"). Default: never. */
	stopOnSilenceMs?: number;
}

export interface RecordingResult {
	path: string;
	/** Length of the audio in the file. */
	durationMs: number;
	/** Why it stopped. */
	reason: 'stopped' | 'maxMs' | 'silence' | 'closed';
}

export interface RecordingHandle {
	/** Stops recording; done then settles once the file is complete. Idempotent. */
	stop(): void;
	/** The finished file; rejects when the file could not be written. */
	readonly done: Promise<RecordingResult>;
}

/** A frame is sound when its RMS reaches this (about -44 dBFS, above a quiet line's noise). */
const SOUND_RMS = 200;
/** Silence kept before the first and after the last sound when trimming. */
const MARGIN_MS = 100;

/**
 * Turns a stream of 20 ms frames into a WAV file: one frame per media tick
 * (silence when the source had nothing, so the file keeps wall time),
 * bounded by maxMs, optionally trimmed. push() copies into the writer's
 * preallocated chunk; nothing is allocated per frame.
 */
export class Recorder implements RecordingHandle {
	readonly path: string;
	readonly sampleRate: number;
	readonly done: Promise<RecordingResult>;
	readonly #writer: WavWriter;
	readonly #maxSamples: number;
	readonly #trim: boolean;
	readonly #silenceStop: number;
	readonly #margin: number;
	/** Trimming: the silent frames just before the first sound, kept as the leading margin. */
	readonly #lead: Int16Array;
	#leadFill = 0;
	#heard = false;
	/** Samples offered (wall time). */
	#elapsed = 0;
	/** Samples in the file after the last sound. */
	#sinceSound = 0;
	#lastSoundEnd = 0;
	#stopped = false;
	#resolve!: (r: RecordingResult) => void;
	#reject!: (e: Error) => void;
	/** Called once when the recording stops (the owner unhooks it from its source). */
	onStop: (() => void) | undefined;

	constructor(opts: RecordOptions, sampleRate: number) {
		const { path, maxMs, stopOnSilenceMs } = opts;
		if (maxMs !== undefined && !(maxMs > 0)) {
			throw new RangeError(`maxMs ${maxMs} must be > 0`);
		}
		if (stopOnSilenceMs !== undefined && !(stopOnSilenceMs > 0)) {
			throw new RangeError(`stopOnSilenceMs ${stopOnSilenceMs} must be > 0`);
		}
		this.#writer = new WavWriter(path, sampleRate);
		this.path = path;
		this.sampleRate = sampleRate;
		this.#maxSamples = maxMs === undefined ? Infinity : Math.round((maxMs * sampleRate) / 1000);
		this.#trim = opts.trimSilence === true;
		this.#silenceStop = stopOnSilenceMs === undefined ? Infinity : Math.round((stopOnSilenceMs * sampleRate) / 1000);
		this.#margin = Math.round((MARGIN_MS * sampleRate) / 1000);
		this.#lead = new Int16Array(this.#trim ? this.#margin : 0);
		this.done = new Promise<RecordingResult>((resolve, reject) => {
			this.#resolve = resolve;
			this.#reject = reject;
		});
		// Marked handled: an owner that never looks at done must not crash the process.
		this.done.catch(() => {});
		// A file that cannot be opened ends the recording at once.
		this.#writer.ready.catch(() => this.#finish('stopped'));
	}

	get stopped(): boolean {
		return this.#stopped;
	}

	stop(): void {
		this.#finish('stopped');
	}

	/** @internal The owner closed (leg closed, room gone). */
	close(): void {
		this.#finish('closed');
	}

	/** One frame of `n` samples at `off`; `pcm` undefined for a silent tick. */
	push(pcm: Int16Array | undefined, off: number, n: number): void {
		if (this.#stopped) {
			return;
		}
		const room = this.#maxSamples - this.#elapsed;
		if (n > room) {
			n = room;
		}
		this.#elapsed += n;
		let sound = false;
		if (pcm !== undefined) {
			let e = 0;
			for (let i = off; i < off + n; i++) {
				const x = pcm[i]!;
				e += x * x;
			}
			sound = n > 0 && e >= SOUND_RMS * SOUND_RMS * n;
		}
		const w = this.#writer;
		if (this.#trim && !this.#heard) {
			if (!sound) {
				this.#keepLead(pcm, off, n);
			} else {
				this.#heard = true;
				w.append(this.#lead, 0, this.#leadFill);
			}
		}
		if (!this.#trim || this.#heard) {
			if (pcm === undefined) {
				w.appendSilence(n);
			} else {
				w.append(pcm, off, n);
			}
		}
		if (sound) {
			this.#heard = true;
			this.#lastSoundEnd = w.samples;
			this.#sinceSound = 0;
		} else if (this.#heard) {
			this.#sinceSound += n;
		}
		if (this.#elapsed >= this.#maxSamples) {
			this.#finish('maxMs');
		} else if (this.#heard && this.#sinceSound >= this.#silenceStop) {
			this.#finish('silence');
		}
	}

	/** Keeps the last MARGIN_MS of leading silence (shifting: only until the first sound). */
	#keepLead(pcm: Int16Array | undefined, off: number, n: number): void {
		const lead = this.#lead;
		const cap = lead.length;
		if (n >= cap) {
			if (pcm === undefined) {
				lead.fill(0);
			} else {
				lead.set(pcm.subarray(off + n - cap, off + n));
			}
			this.#leadFill = cap;
			return;
		}
		const keep = Math.min(this.#leadFill, cap - n);
		lead.copyWithin(0, this.#leadFill - keep, this.#leadFill);
		if (pcm === undefined) {
			lead.fill(0, keep, keep + n);
		} else {
			lead.set(pcm.subarray(off, off + n), keep);
		}
		this.#leadFill = keep + n;
	}

	#finish(reason: RecordingResult['reason']): void {
		if (this.#stopped) {
			return;
		}
		this.#stopped = true;
		this.onStop?.();
		let keep: number | undefined;
		if (this.#trim) {
			keep = this.#heard ? Math.min(this.#writer.samples, this.#lastSoundEnd + this.#margin) : 0;
		}
		this.#writer.close(keep).then(
			(samples) => this.#resolve({ path: this.path, durationMs: (samples * 1000) / this.sampleRate, reason }),
			(error: unknown) => this.#reject(error as Error),
		);
	}
}
