import { TickHistogramAccumulator } from './tick-window.js';
import diagnostics_channel from 'node:diagnostics_channel';
import { Worker } from 'node:worker_threads';
import { InvalidStateError } from '../common/errors.js';
import { TypedEmitter } from '../common/events.js';
import { logger } from '../common/logger.js';
import { WorkerChannel, fromWire } from './channel.js';
import { MixerError } from './errors.js';
import {
	type MixerNotification,
	type MixerWorkerData,
	type MixerWorkerStats,
	PROTOCOL_VERSION,
	frameSamplesFor,
} from './protocol.js';
import { PcmRing } from './ring-buffer.js';

export { frameSamplesFor } from './protocol.js';

export interface MixerHostOptions {
	/** Worker threads; rooms are sharded across them. Default 1. */
	workers?: number;
	/** Frame period of every room. Default 20. */
	frameMs?: number;
	/** How long a request may wait for its answer. Default 5000. */
	requestTimeoutMs?: number;
	/** Period of the workers' stats notifications (diagnostics channels); 0 disables. Default 1000. */
	statsIntervalMs?: number;
}

export type MixerHostEvents = {
	/** A worker crashed or exited on its own; its rooms are gone. */
	error: [Error];
	/** A worker thread ended (with its exit code), expectedly or not. */
	workerexit: [number];
};

export interface MixerWorkerStatsEntry extends MixerWorkerStats {
	index: number;
	/** False once the worker has exited; its figures are then the last ones it reported. */
	alive: boolean;
}

export interface MixerStats {
	workers: MixerWorkerStatsEntry[];
}

export interface ParticipantRings {
	/** leg → mixer: the mixer is the consumer. */
	input: PcmRing;
	/** mixer → leg: the mixer is the producer. */
	output: PcmRing;
}

/**
 * Published on every stats notification: `{ worker, stats }`.
 * Overruns also go to confsrv:mixer:overrun as `{ worker, overruns, total }`
 * (new since the previous report), at the stats period's granularity.
 */
export const statsChannel = diagnostics_channel.channel('confsrv:mixer:stats');
export const overrunChannel = diagnostics_channel.channel('confsrv:mixer:overrun');

const CLOSE_GRACE_MS = 1000;

interface WorkerSlot {
	index: number;
	worker: Worker;
	channel: WorkerChannel;
	rooms: number;
	alive: boolean;
	kernel: string;
	lastStats: MixerWorkerStats | null;
	ready: Promise<void>;
	exited: Promise<number>;
}

interface HostRoom {
	id: string;
	sampleRate: number;
	frameSamples: number;
	slot: WorkerSlot;
	participants: Map<string, ParticipantRings>;
}

/**
 * The main-thread side of the mixer: spawns the worker threads, places each
 * room on the worker with the fewest rooms, and forwards room and participant
 * changes to it. The host keeps its own copy of who is where, so bad calls
 * fail here with a coded error before any message is sent, and so a ring can
 * never be handed to two consumers at once (MIXER_RING_IN_USE).
 *
 * Requests to one worker are answered in order, so callers may fire
 * createRoom and addParticipant without awaiting in between.
 */
export class MixerHost extends TypedEmitter<MixerHostEvents> {
	readonly frameMs: number;
	readonly #timeoutMs: number;
	readonly #slots: WorkerSlot[] = [];
	readonly #rooms = new Map<string, HostRoom>();
	/** Rings some participant owns, until the worker confirms it let go. */
	readonly #ringsInUse = new Set<SharedArrayBuffer>();
	#closing: Promise<void> | null = null;
	readonly #log = logger.child({ component: 'mixer' });

	static async create(opts: MixerHostOptions = {}): Promise<MixerHost> {
		const host = new MixerHost(opts);
		try {
			await Promise.all(host.#slots.map((s) => s.ready));
		} catch (error) {
			await host.close();
			throw error;
		}
		return host;
	}

	private constructor(opts: MixerHostOptions) {
		super();
		const workers = opts.workers ?? 1;
		const frameMs = opts.frameMs ?? 20;
		const statsIntervalMs = opts.statsIntervalMs ?? 1000;
		this.#timeoutMs = opts.requestTimeoutMs ?? 5000;
		if (!Number.isInteger(workers) || workers < 1) {
			throw new TypeError('workers must be a positive integer');
		}
		if (!(frameMs > 0) || !Number.isFinite(frameMs)) {
			throw new TypeError('frameMs must be a positive number');
		}
		if (!(this.#timeoutMs > 0)) {
			throw new TypeError('requestTimeoutMs must be positive');
		}
		if (!(statsIntervalMs >= 0)) {
			throw new TypeError('statsIntervalMs must be 0 or more');
		}
		this.frameMs = frameMs;
		for (let index = 0; index < workers; index++) {
			this.#slots.push(this.#spawn({ v: PROTOCOL_VERSION, index, frameMs, statsIntervalMs }));
		}
	}

	get closed(): boolean {
		return this.#closing !== null;
	}

	async createRoom(roomId: string, sampleRate: number): Promise<void> {
		this.#assertOpen();
		assertId(roomId, 'roomId');
		const frameSamples = frameSamplesFor(sampleRate, this.frameMs);
		if (this.#rooms.has(roomId)) {
			throw new MixerError('MIXER_ROOM_EXISTS', `mixer room ${roomId} already exists`);
		}
		let slot: WorkerSlot | null = null;
		for (const s of this.#slots) {
			if (s.alive && (!slot || s.rooms < slot.rooms)) {
				slot = s;
			}
		}
		if (!slot) {
			throw new MixerError('MIXER_WORKER_DIED', 'no mixer worker is running');
		}
		// Recorded before the answer so calls made meanwhile see the room.
		const room: HostRoom = { id: roomId, sampleRate, frameSamples, slot, participants: new Map() };
		this.#rooms.set(roomId, room);
		slot.rooms++;
		try {
			await slot.channel.request('createRoom', { roomId, sampleRate, frameMs: this.frameMs }, this.#timeoutMs);
		} catch (error) {
			if (this.#rooms.get(roomId) === room) {
				this.#dropRoom(room);
			}
			throw error;
		}
	}

	async closeRoom(roomId: string): Promise<void> {
		this.#assertOpen();
		const room = this.#room(roomId);
		this.#dropRoom(room);
		const rings = [...room.participants.values()];
		if (!room.slot.alive) {
			// The worker and the room died together; nothing left to undo.
			this.#release(rings);
			return;
		}
		try {
			await room.slot.channel.request('closeRoom', { roomId }, this.#timeoutMs);
		} finally {
			this.#release(rings);
		}
	}

	async addParticipant(roomId: string, participantId: string, rings: ParticipantRings): Promise<void> {
		this.#assertOpen();
		assertId(participantId, 'participantId');
		if (!(rings?.input instanceof PcmRing) || !(rings.output instanceof PcmRing)) {
			throw new TypeError('rings.input and rings.output must be PcmRings');
		}
		const room = this.#room(roomId);
		if (room.participants.has(participantId)) {
			throw new MixerError('MIXER_PARTICIPANT_EXISTS', `participant ${participantId} is already in mixer room ${roomId}`);
		}
		for (const ring of [rings.input, rings.output]) {
			if (ring.frameSamples !== room.frameSamples) {
				throw new MixerError(
					'MIXER_FRAME_MISMATCH',
					`ring frames have ${ring.frameSamples} samples; ` +
						`room ${roomId} at ${room.sampleRate} Hz needs ${room.frameSamples}`,
				);
			}
		}
		const { input, output } = rings;
		if (input.sab === output.sab || this.#ringsInUse.has(input.sab) || this.#ringsInUse.has(output.sab)) {
			// Two consumers (or producers) on one SPSC ring would tear frames.
			throw new MixerError(
				'MIXER_RING_IN_USE',
				'ring already attached to a mixer participant (await removeParticipant before reusing it)',
			);
		}
		this.#ringsInUse.add(input.sab);
		this.#ringsInUse.add(output.sab);
		room.participants.set(participantId, rings);
		try {
			await room.slot.channel.request(
				'addParticipant',
				{ roomId, participantId, input: input.sab, output: output.sab },
				this.#timeoutMs,
			);
		} catch (error) {
			if (room.participants.get(participantId) === rings) {
				room.participants.delete(participantId);
				this.#release([rings]);
			}
			throw error;
		}
	}

	async removeParticipant(roomId: string, participantId: string): Promise<void> {
		this.#assertOpen();
		const room = this.#room(roomId);
		const rings = room.participants.get(participantId);
		if (!rings) {
			throw new MixerError('MIXER_PARTICIPANT_NOT_FOUND', `participant ${participantId} is not in mixer room ${roomId}`);
		}
		room.participants.delete(participantId);
		if (!room.slot.alive) {
			this.#release([rings]);
			return;
		}
		try {
			await room.slot.channel.request('removeParticipant', { roomId, participantId }, this.#timeoutMs);
		} finally {
			// Released only now: until the worker answers it may still read the ring.
			this.#release([rings]);
		}
	}

	async getStats(): Promise<MixerStats> {
		this.#assertOpen();
		const workers = await Promise.all(
			this.#slots.map(async (slot): Promise<MixerWorkerStatsEntry> => {
				if (slot.alive) {
					const stats = await slot.channel.request('getStats', {}, this.#timeoutMs);
					slot.lastStats = stats;
					return { index: slot.index, alive: true, ...stats };
				}
				return { index: slot.index, alive: false, ...(slot.lastStats ?? emptyStats(slot.kernel)) };
			}),
		);
		return { workers };
	}

	/**
	 * Stops every worker and waits for the threads to end. Requests in flight
	 * reject with InvalidStateError. Safe to call again: returns the same promise.
	 */
	close(): Promise<void> {
		if (!this.#closing) {
			this.#closing = this.#shutdown();
		}
		return this.#closing;
	}

	async #shutdown(): Promise<void> {
		await Promise.all(
			this.#slots.map(async (slot) => {
				slot.channel.rejectPending(new InvalidStateError('mixer host closed'));
				if (slot.alive) {
					try {
						// The worker stops touching rings, answers, and exits by itself.
						await slot.channel.request('close', {}, CLOSE_GRACE_MS);
					} catch {
						// It will be terminated below either way.
					}
				}
				slot.channel.close(new InvalidStateError('mixer host closed'));
				const timer = setTimeout(() => void slot.worker.terminate(), CLOSE_GRACE_MS);
				await slot.exited;
				clearTimeout(timer);
			}),
		);
		this.#rooms.clear();
		this.#ringsInUse.clear();
	}

	#spawn(data: MixerWorkerData): WorkerSlot {
		const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: data });
		let ready!: () => void;
		let notReady!: (error: Error) => void;
		let exited!: (code: number) => void;
		const slot: WorkerSlot = {
			index: data.index,
			worker,
			channel: new WorkerChannel(worker, (n) => this.#onNotification(slot, n, ready, notReady)),
			rooms: 0,
			alive: true,
			kernel: '',
			lastStats: null,
			ready: new Promise<void>((resolve, reject) => {
				ready = resolve;
				notReady = reject;
			}),
			exited: new Promise<number>((resolve) => {
				exited = resolve;
			}),
		};
		// create() awaits this; a host that never gets that far must not leak an unhandled rejection.
		slot.ready.catch(() => {});
		const startTimer = setTimeout(() => {
			notReady(new MixerError('MIXER_TIMEOUT', `mixer worker ${data.index} did not start within ${this.#timeoutMs} ms`));
		}, this.#timeoutMs);
		startTimer.unref();
		void slot.ready.then(
			() => clearTimeout(startTimer),
			() => clearTimeout(startTimer),
		);
		let reported = false;
		worker.on('error', (error) => {
			// An uncaught exception in the worker: the thread is ending.
			reported = true;
			const died = new MixerError('MIXER_WORKER_DIED', `mixer worker ${data.index} crashed: ${error.message}`, {
				cause: error,
			});
			slot.alive = false;
			slot.channel.close(died);
			notReady(died);
			this.#emitError(died);
		});
		worker.on('messageerror', (error) => {
			this.#log.error({ err: error, worker: data.index }, 'mixer message could not be deserialised');
		});
		worker.on('exit', (code) => {
			slot.alive = false;
			const expected = this.#closing !== null;
			const died = expected
				? new InvalidStateError('mixer host closed')
				: new MixerError('MIXER_WORKER_DIED', `mixer worker ${data.index} exited with code ${code}`);
			slot.channel.close(died);
			notReady(died);
			if (!expected && !reported) {
				this.#emitError(died);
			}
			this.#log.debug({ worker: data.index, code }, 'mixer worker exited');
			exited(code);
			this.safeEmit('workerexit', code);
		});
		return slot;
	}

	#onNotification(
		slot: WorkerSlot,
		n: MixerNotification,
		ready: () => void,
		notReady: (error: Error) => void,
	): void {
		switch (n.event) {
			case 'ready':
				slot.kernel = n.data.kernel;
				this.#log.info({ worker: slot.index, kernel: n.data.kernel }, 'mixer worker ready');
				ready();
				break;
			case 'startupError':
				notReady(fromWire(n.data));
				break;
			case 'stats': {
				const before = slot.lastStats?.overruns ?? 0;
				slot.lastStats = n.data;
				if (statsChannel.hasSubscribers) {
					statsChannel.publish({ worker: slot.index, stats: n.data });
				}
				if (n.data.overruns > before && overrunChannel.hasSubscribers) {
					overrunChannel.publish({ worker: slot.index, overruns: n.data.overruns - before, total: n.data.overruns });
				}
				break;
			}
		}
	}

	#emitError(error: Error): void {
		if (this.listenerCount('error') > 0) {
			this.safeEmit('error', error);
		} else {
			// An 'error' event without listeners would throw from inside a worker callback.
			this.#log.error({ err: error }, 'mixer error');
		}
	}

	#room(roomId: string): HostRoom {
		const room = this.#rooms.get(roomId);
		if (!room) {
			throw new MixerError('MIXER_ROOM_NOT_FOUND', `no mixer room ${String(roomId)}`);
		}
		return room;
	}

	#dropRoom(room: HostRoom): void {
		this.#rooms.delete(room.id);
		room.slot.rooms--;
	}

	#release(rings: ParticipantRings[]): void {
		for (const r of rings) {
			this.#ringsInUse.delete(r.input.sab);
			this.#ringsInUse.delete(r.output.sab);
		}
	}

	#assertOpen(): void {
		if (this.#closing) {
			throw new InvalidStateError('mixer host closed');
		}
	}
}

function assertId(id: unknown, what: string): asserts id is string {
	if (typeof id !== 'string' || id === '') {
		throw new TypeError(`${what} must be a non-empty string`);
	}
}

function emptyStats(kernel: string): MixerWorkerStats {
	return {
		kernel,
		rooms: 0,
		participants: 0,
		ticks: 0,
		overruns: 0,
		resyncs: 0,
		tickUs: { p50: 0, p99: 0, max: 0, samples: 0 },
		tickHistogram: new TickHistogramAccumulator().snapshot(),
	};
}
