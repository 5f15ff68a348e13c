import { MixerError } from './errors.js';
import type { MixKernel } from './kernel/kernel.js';
import { PcmRing } from './ring-buffer.js';

/**
 * How many input frames a participant may have queued when the mixer reads.
 * A leg that delivered a burst (or a mixer that ran late) drops the oldest
 * beyond this, so mouth-to-ear delay stays bounded (janus's QUEUE_IN_MAX_PACKETS).
 */
export const MAX_INPUT_BACKLOG = 3;

/**
 * One room's mix state inside a worker. Everything the tick touches is
 * preallocated here: frames, the active flags and the 32-bit sum. Adding a
 * participant may grow the arrays; removing one keeps its buffers at the tail
 * for the next join, so a tick never allocates.
 *
 * Worker messages run between ticks on the same thread, so the participant
 * list cannot change mid-tick: the snapshot janus takes under a mutex comes free.
 */
export class MixRoom {
	readonly id: string;
	readonly sampleRate: number;
	readonly frameSamples: number;
	#count = 0;
	// Index i is one participant in all of these; the first #count are live.
	readonly #ids: string[] = [];
	readonly #inRings: PcmRing[] = [];
	readonly #outRings: PcmRing[] = [];
	// Length = capacity (≥ #count): spare frames wait at the tail for reuse.
	readonly #inFrames: Int16Array[] = [];
	readonly #outFrames: Int16Array[] = [];
	#active = new Uint8Array(4);
	readonly #sum: Int32Array;

	constructor(id: string, sampleRate: number, frameSamples: number) {
		this.id = id;
		this.sampleRate = sampleRate;
		this.frameSamples = frameSamples;
		this.#sum = new Int32Array(frameSamples);
	}

	get participants(): number {
		return this.#count;
	}

	has(participantId: string): boolean {
		return this.#indexOf(participantId) >= 0;
	}

	/** Takes over the consumer end of `input` and the producer end of `output`. */
	add(participantId: string, input: PcmRing, output: PcmRing): void {
		if (this.has(participantId)) {
			throw new MixerError('MIXER_PARTICIPANT_EXISTS', `participant ${participantId} is already in room ${this.id}`);
		}
		for (const ring of [input, output]) {
			if (ring.frameSamples !== this.frameSamples) {
				throw new MixerError(
					'MIXER_FRAME_MISMATCH',
					`ring frames have ${ring.frameSamples} samples, room ${this.id} mixes ${this.frameSamples}`,
				);
			}
		}
		const i = this.#count;
		if (i === this.#inFrames.length) {
			this.#inFrames.push(new Int16Array(this.frameSamples));
			this.#outFrames.push(new Int16Array(this.frameSamples));
		}
		if (i === this.#active.length) {
			const grown = new Uint8Array(this.#active.length * 2);
			grown.set(this.#active);
			this.#active = grown;
		}
		// Whatever the leg queued before joining (or in its previous room) is stale.
		input.clear();
		this.#ids.push(participantId);
		this.#inRings.push(input);
		this.#outRings.push(output);
		this.#count = i + 1;
	}

	/** Returns false when the participant is not in the room. */
	remove(participantId: string): boolean {
		const i = this.#indexOf(participantId);
		if (i < 0) {
			return false;
		}
		// Order does not matter to the mix: move the last participant into the
		// hole and park the freed frames at the tail for reuse.
		const last = this.#count - 1;
		if (i !== last) {
			this.#ids[i] = this.#ids[last]!;
			this.#inRings[i] = this.#inRings[last]!;
			this.#outRings[i] = this.#outRings[last]!;
			swap(this.#inFrames, i, last);
			swap(this.#outFrames, i, last);
		}
		this.#ids.pop();
		this.#inRings.pop();
		this.#outRings.pop();
		this.#count = last;
		return true;
	}

	/** Drops every participant's rings (closing the room). */
	clear(): void {
		this.#ids.length = 0;
		this.#inRings.length = 0;
		this.#outRings.length = 0;
		this.#count = 0;
	}

	/**
	 * One frame period: read one frame per participant, mix, write one frame
	 * each. A participant with nothing queued is inactive this tick: it adds
	 * nothing but still hears everyone. One participant alone hears silence.
	 */
	tick(kernel: MixKernel): void {
		const n = this.#count;
		if (n === 0) {
			return;
		}
		const active = this.#active;
		const inRings = this.#inRings;
		const inFrames = this.#inFrames;
		for (let i = 0; i < n; i++) {
			active[i] = inRings[i]!.read(inFrames[i]!, MAX_INPUT_BACKLOG) ? 1 : 0;
		}
		kernel.mix(inFrames, active, n, this.frameSamples, this.#sum, this.#outFrames);
		const outRings = this.#outRings;
		const outFrames = this.#outFrames;
		for (let i = 0; i < n; i++) {
			// A full output ring (leg not draining) drops the frame; the ring counts it.
			outRings[i]!.write(outFrames[i]!);
		}
	}

	#indexOf(participantId: string): number {
		return this.#ids.indexOf(participantId);
	}
}

function swap<T>(a: T[], i: number, j: number): void {
	const t = a[i]!;
	a[i] = a[j]!;
	a[j] = t;
}
