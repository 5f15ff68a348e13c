import { randomUUID } from 'node:crypto';
import { logger } from '../../common/logger.js';
import { PcmRing } from '../../mixer/ring-buffer.js';
import type { FrameClock, MixRoomLike } from '../room-media.js';
import { Recorder, type RecordOptions, type RecordingHandle, type RecordingResult } from './recorder.js';

const RING_SLOTS = 8;

/**
 * Records a room's whole mix to WAV: a hidden mixer participant that never
 * speaks, so what the mixer sends it (everyone minus its own nothing) is the
 * complete mix, including room prompts. Every media clock tick it drains
 * the frames the mixer produced into the Recorder. When the recording
 * stops (stop(), maxMs, silence) it leaves the room by itself.
 */
export class RoomRecorder implements RecordingHandle {
	readonly id: string;
	readonly done: Promise<RecordingResult>;
	readonly #room: MixRoomLike;
	readonly #clock: FrameClock;
	readonly #recorder: Recorder;
	readonly #input: PcmRing;
	readonly #output: PcmRing;
	readonly #frame: Int16Array;
	#closed = false;
	#left: Promise<void> | undefined;

	/** Joins `room` (hidden) and records until stopped; rejects when the room cannot be joined. */
	static async start(room: MixRoomLike, clock: FrameClock, opts: RecordOptions): Promise<RoomRecorder> {
		const r = new RoomRecorder(room, clock, opts);
		try {
			await room.join({
				id: r.id,
				displayName: 'recorder',
				callId: '',
				joinedAt: new Date(),
				rings: { input: r.#input, output: r.#output },
				hidden: true,
			});
		} catch (error) {
			r.#closed = true;
			r.#recorder.onStop = undefined;
			r.#recorder.close();
			throw error;
		}
		if (r.#recorder.stopped) {
			// The file could not be opened while we joined.
			await r.#leave();
		} else {
			clock.add(r);
		}
		return r;
	}

	private constructor(room: MixRoomLike, clock: FrameClock, opts: RecordOptions) {
		this.id = `recorder-${randomUUID()}`;
		const fs = (room.sampleRate * 20) / 1000;
		this.#room = room;
		this.#clock = clock;
		this.#recorder = new Recorder(opts, room.sampleRate);
		this.#recorder.onStop = () => void this.#leave();
		this.done = this.#recorder.done;
		this.#input = PcmRing.create(RING_SLOTS, fs);
		this.#output = PcmRing.create(RING_SLOTS, fs);
		this.#frame = new Int16Array(fs);
	}

	get closed(): boolean {
		return this.#closed;
	}

	get path(): string {
		return this.#recorder.path;
	}

	stop(): void {
		this.#recorder.stop();
	}

	/** @internal One media clock tick: every frame the mixer produced goes to the file. */
	sendFrame(): void {
		const frame = this.#frame;
		const rec = this.#recorder;
		while (this.#output.read(frame)) {
			rec.push(frame, 0, frame.length);
		}
	}

	/** Stops, leaves the room and waits for the file. */
	async close(): Promise<RecordingResult> {
		this.#recorder.stop();
		await this.#leave();
		return this.done;
	}

	#leave(): Promise<void> {
		this.#left ??= (async () => {
			this.#closed = true;
			this.#clock.remove(this);
			await this.#room.leave(this.id).catch((error: unknown) => logger.warn({ err: error }, 'room recorder leave failed'));
		})();
		return this.#left;
	}
}
