import { Prompt } from './prompt.js';

/** How a playback ended. */
export type PlaybackEnd = 'finished' | 'stopped' | 'interrupted' | 'closed';

export interface PlayOptions {
	/** Repeat until stopped (music on hold). Queued prompts behind a loop wait for its stop(). Default false. */
	loop?: boolean;
	/** 'queue' (default): after what is playing; 'interrupt': stop everything playing or queued, play now. */
	mode?: 'queue' | 'interrupt';
}

export interface PlaybackHandle {
	/** Stops this prompt (playing or still queued); the next queued one follows. Idempotent. */
	stop(): void;
	/** Settles when the prompt ends, with how. Never rejects. */
	readonly done: Promise<PlaybackEnd>;
}

interface Item extends PlaybackHandle {
	samples: Int16Array;
	loop: boolean;
	pos: number;
	ended: boolean;
	resolve: (end: PlaybackEnd) => void;
}

/**
 * The prompts queued for one listener (a leg) or one room, at one rate.
 * Every frame, mixInto() or readInto() takes the next samples from the
 * prompt at the head, crossing into the next prompt (or the loop's start)
 * inside a frame, so prompts play back to back without a gap. Starting a
 * playback allocates its handle (control path); the per-frame calls copy
 * samples only.
 */
export class PromptQueue {
	readonly sampleRate: number;
	readonly #items: Item[] = [];
	#closed = false;

	constructor(sampleRate: number) {
		this.sampleRate = sampleRate;
	}

	/** Whether a prompt is playing or queued. */
	get active(): boolean {
		return this.#items.length > 0;
	}

	/** Prompts playing or queued. */
	get length(): number {
		return this.#items.length;
	}

	/** Queues (or with mode 'interrupt', starts at once) a prompt; it is converted to this rate once (cached on the Prompt). */
	play(prompt: Prompt, opts: PlayOptions = {}): PlaybackHandle {
		if (!(prompt instanceof Prompt)) {
			throw new TypeError('play() needs a Prompt');
		}
		const mode = opts.mode ?? 'queue';
		if (mode !== 'queue' && mode !== 'interrupt') {
			throw new TypeError(`play mode ${String(mode)} is not 'queue' or 'interrupt'`);
		}
		const samples = prompt.at(this.sampleRate).samples;
		let resolve!: (end: PlaybackEnd) => void;
		const done = new Promise<PlaybackEnd>((r) => {
			resolve = r;
		});
		const item: Item = {
			samples,
			loop: opts.loop === true,
			pos: 0,
			ended: false,
			resolve,
			done,
			stop: () => this.#end(item, 'stopped'),
		};
		if (this.#closed) {
			item.ended = true;
			resolve('closed');
			return item;
		}
		if (mode === 'interrupt') {
			this.#endAll('interrupted');
		}
		if (samples.length === 0) {
			// Nothing to hear; looping nothing would spin.
			item.ended = true;
			resolve('finished');
			return item;
		}
		this.#items.push(item);
		return item;
	}

	/** Stops everything playing or queued. */
	stop(): void {
		this.#endAll('stopped');
	}

	/** Ends everything with 'closed'; later play() calls end at once. */
	close(): void {
		this.#closed = true;
		this.#endAll('closed');
	}

	/**
	 * Adds the next `n` samples to `out` at `off`, saturating to int16.
	 * Returns false (and leaves `out` alone) when nothing is playing.
	 */
	mixInto(out: Int16Array, off: number, n: number): boolean {
		return this.#take(out, off, n, true);
	}

	/** Writes the next `n` samples to `out` at `off` (zeros after the last prompt). False when nothing is playing. */
	readInto(out: Int16Array, off: number, n: number): boolean {
		return this.#take(out, off, n, false);
	}

	#take(out: Int16Array, off: number, n: number, mix: boolean): boolean {
		const items = this.#items;
		if (items.length === 0) {
			return false;
		}
		let o = off;
		const end = off + n;
		while (o < end && items.length > 0) {
			const item = items[0]!;
			const s = item.samples;
			const m = Math.min(end - o, s.length - item.pos);
			let p = item.pos;
			if (mix) {
				for (let i = 0; i < m; i++) {
					const v = out[o + i]! + s[p++]!;
					out[o + i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
				}
			} else {
				out.set(s.subarray(p, p + m), o);
				p += m;
			}
			o += m;
			if (p === s.length) {
				if (item.loop) {
					p = 0;
				} else {
					this.#end(item, 'finished');
					continue;
				}
			}
			item.pos = p;
		}
		if (!mix && o < end) {
			out.fill(0, o, end);
		}
		return true;
	}

	#end(item: Item, how: PlaybackEnd): void {
		if (item.ended) {
			return;
		}
		item.ended = true;
		const i = this.#items.indexOf(item);
		if (i >= 0) {
			this.#items.splice(i, 1);
		}
		item.resolve(how);
	}

	#endAll(how: PlaybackEnd): void {
		const items = this.#items.splice(0);
		for (const item of items) {
			item.ended = true;
			item.resolve(how);
		}
	}
}
