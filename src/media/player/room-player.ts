import { randomUUID } from 'node:crypto';
import { InvalidStateError } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import { PcmRing } from '../../mixer/ring-buffer.js';
import type { FrameClock, MixRoomLike } from '../room-media.js';
import type { Prompt } from './prompt.js';
import { PromptQueue, type PlaybackHandle, type PlayOptions } from './queue.js';

/** Frames per ring: the mixer reads with a backlog of 3; 8 leaves room for a late tick. */
const RING_SLOTS = 8;

/**
 * Plays prompts to everyone in a room ("<name> has joined", music on hold):
 * a hidden mixer participant whose "voice" is the prompt queue. On every
 * media clock tick it writes one frame while something plays (nothing
 * otherwise, so an idle player adds nothing to the mix) and throws away
 * the mix the mixer sends it. Everyone hears the prompt through the normal
 * N-1 mix, mixed with the room, at the room's rate (prompts are converted
 * once, cached on the Prompt).
 */
export class RoomPlayer {
	readonly id: string;
	readonly sampleRate: number;
	readonly #room: MixRoomLike;
	readonly #clock: FrameClock;
	readonly #queue: PromptQueue;
	readonly #input: PcmRing;
	readonly #output: PcmRing;
	readonly #frame: Int16Array;
	#closed = false;
	#closing: Promise<void> | undefined;

	/** Joins `room` (hidden) and starts ticking on `clock`. */
	static async open(room: MixRoomLike, clock: FrameClock, opts: { name?: string } = {}): Promise<RoomPlayer> {
		const p = new RoomPlayer(room, clock);
		await room.join({
			id: p.id,
			displayName: opts.name ?? 'player',
			callId: '',
			joinedAt: new Date(),
			rings: { input: p.#input, output: p.#output },
			hidden: true,
		});
		clock.add(p);
		return p;
	}

	private constructor(room: MixRoomLike, clock: FrameClock) {
		this.id = `player-${randomUUID()}`;
		this.sampleRate = room.sampleRate;
		const fs = (room.sampleRate * 20) / 1000;
		this.#room = room;
		this.#clock = clock;
		this.#queue = new PromptQueue(room.sampleRate);
		this.#input = PcmRing.create(RING_SLOTS, fs);
		this.#output = PcmRing.create(RING_SLOTS, fs);
		this.#frame = new Int16Array(fs);
	}

	get closed(): boolean {
		return this.#closed;
	}

	/** Whether a prompt is playing or queued. */
	get playing(): boolean {
		return this.#queue.active;
	}

	play(prompt: Prompt, opts: PlayOptions = {}): PlaybackHandle {
		if (this.#closed) {
			throw new InvalidStateError('room player closed');
		}
		return this.#queue.play(prompt, opts);
	}

	/** Stops everything playing or queued. */
	stop(): void {
		this.#queue.stop();
	}

	/** @internal One media clock tick. */
	sendFrame(): void {
		const frame = this.#frame;
		// The mix sent to us is not listened to.
		while (this.#output.read(frame)) {
			// drained
		}
		if (this.#queue.readInto(frame, 0, frame.length)) {
			this.#input.write(frame);
		}
	}

	/** Stops playback, leaves the room. Idempotent. */
	close(): Promise<void> {
		this.#closing ??= (async () => {
			this.#closed = true;
			this.#queue.close();
			this.#clock.remove(this);
			await this.#room.leave(this.id).catch((error: unknown) => logger.warn({ err: error }, 'room player leave failed'));
		})();
		return this.#closing;
	}
}
