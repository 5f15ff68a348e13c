/**
 * Mixer worker entry (runs in a worker_threads Worker spawned by MixerHost).
 *
 * A drift-free clock drives every room on this worker: tick k is due at
 * start + k × frameMs, an absolute deadline, so timer lateness never
 * accumulates. A late wake runs the ticks that are due back to back (a small
 * catch-up keeps each leg receiving exactly one frame per period); a wake more
 * than MAX_BEHIND_FRAMES late restarts the schedule from now instead of
 * bursting, because the legs' rings would drop the burst anyway.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { ServerError } from '../common/errors.js';
import { type Logger, logger } from '../common/logger.js';
import { MixerError } from './errors.js';
import type { MixKernel } from './kernel/kernel.js';
import { loadKernel } from './kernel/index.js';
import { MixRoom } from './mix-room.js';
import {
	type MixerNotification,
	type MixerRequest,
	type MixerResponse,
	type MixerWorkerData,
	type MixerWorkerStats,
	type WireError,
	PROTOCOL_VERSION,
	frameSamplesFor,
} from './protocol.js';
import { PcmRing } from './ring-buffer.js';
import { TickHistogramAccumulator, TickWindow } from './tick-window.js';

/** Further behind than this, the clock resynchronises rather than catching up. */
const MAX_BEHIND_FRAMES = 3;
/**
 * Node timers have 1 ms resolution and may wake a fraction early against
 * performance.now(); a tick this close to its deadline runs now instead of
 * costing another timer round trip.
 */
const EARLY_MS = 0.5;

class MixerWorker {
	readonly #port: MessagePort;
	readonly #kernel: MixKernel;
	readonly #frameMs: number;
	readonly #log: Logger;
	readonly #rooms = new Map<string, MixRoom>();
	// The same rooms as an array: the tick iterates it without an iterator object.
	readonly #roomList: MixRoom[] = [];
	readonly #window = new TickWindow();
	#timer: NodeJS.Timeout | null = null;
	#statsTimer: NodeJS.Timeout | null = null;
	#start = 0;
	#k = 0;
	#ticks = 0;
	readonly #histogram = new TickHistogramAccumulator();
	#overruns = 0;
	#resyncs = 0;
	#closed = false;

	constructor(port: MessagePort, kernel: MixKernel, data: MixerWorkerData) {
		this.#port = port;
		this.#kernel = kernel;
		this.#frameMs = data.frameMs;
		this.#log = logger.child({ mixerWorker: data.index });
		if (data.statsIntervalMs > 0) {
			this.#statsTimer = setInterval(() => {
				this.#notify({ v: PROTOCOL_VERSION, kind: 'notification', event: 'stats', data: this.#stats() });
			}, data.statsIntervalMs);
		}
		port.on('message', (msg: unknown) => this.#onMessage(msg));
		this.#notify({ v: PROTOCOL_VERSION, kind: 'notification', event: 'ready', data: { kernel: kernel.name } });
		this.#log.debug({ kernel: kernel.name, frameMs: this.#frameMs }, 'mixer worker ready');
	}

	#onMessage(msg: unknown): void {
		if (!isRequest(msg)) {
			this.#log.warn({ msg }, 'ignoring malformed message');
			return;
		}
		const res: MixerResponse = { v: PROTOCOL_VERSION, kind: 'response', id: msg.id, ok: true };
		if (msg.v !== PROTOCOL_VERSION) {
			res.ok = false;
			res.error = {
				code: 'MIXER_BAD_REQUEST',
				message: `protocol version ${String(msg.v)}, worker speaks ${PROTOCOL_VERSION}`,
			};
			this.#port.postMessage(res);
			return;
		}
		try {
			const data = this.#handle(msg);
			if (data !== undefined) {
				res.data = data;
			}
		} catch (error) {
			res.ok = false;
			res.error = toWire(error);
		}
		this.#port.postMessage(res);
		if (msg.method === 'close') {
			// Let the answer leave first; with the port closed the thread exits by itself.
			setImmediate(() => this.#port.close());
		}
	}

	#handle(req: MixerRequest): unknown {
		if (this.#closed) {
			throw new MixerError('MIXER_BAD_REQUEST', 'worker is closing');
		}
		switch (req.method) {
			case 'createRoom': {
				const { roomId, sampleRate, frameMs } = req.params;
				requireId(roomId, 'roomId');
				if (frameMs !== this.#frameMs) {
					// One clock per worker; the host gives every room the same period.
					throw new MixerError('MIXER_BAD_REQUEST', `this worker ticks every ${this.#frameMs} ms, not ${String(frameMs)}`);
				}
				if (this.#rooms.has(roomId)) {
					throw new MixerError('MIXER_ROOM_EXISTS', `room ${roomId} already exists`);
				}
				let frameSamples: number;
				try {
					frameSamples = frameSamplesFor(sampleRate, frameMs);
				} catch (error) {
					throw new MixerError('MIXER_BAD_REQUEST', (error as Error).message);
				}
				const room = new MixRoom(roomId, sampleRate, frameSamples);
				this.#rooms.set(roomId, room);
				this.#roomList.push(room);
				if (this.#roomList.length === 1) {
					this.#startClock();
				}
				return undefined;
			}
			case 'closeRoom': {
				const room = this.#room(req.params.roomId);
				room.clear();
				this.#rooms.delete(room.id);
				const i = this.#roomList.indexOf(room);
				this.#roomList[i] = this.#roomList[this.#roomList.length - 1]!;
				this.#roomList.pop();
				if (this.#roomList.length === 0) {
					this.#stopClock();
				}
				return undefined;
			}
			case 'addParticipant': {
				const { roomId, participantId, input, output } = req.params;
				requireId(participantId, 'participantId');
				const room = this.#room(roomId);
				if (!(input instanceof SharedArrayBuffer) || !(output instanceof SharedArrayBuffer)) {
					throw new MixerError('MIXER_BAD_REQUEST', 'input and output must be SharedArrayBuffers');
				}
				if (input === output) {
					throw new MixerError('MIXER_RING_IN_USE', 'input and output must be different rings');
				}
				let inRing: PcmRing;
				let outRing: PcmRing;
				try {
					inRing = new PcmRing(input);
					outRing = new PcmRing(output);
				} catch (error) {
					throw new MixerError('MIXER_BAD_REQUEST', (error as Error).message);
				}
				room.add(participantId, inRing, outRing);
				return undefined;
			}
			case 'removeParticipant': {
				const { roomId, participantId } = req.params;
				if (!this.#room(roomId).remove(participantId)) {
					throw new MixerError('MIXER_PARTICIPANT_NOT_FOUND', `participant ${participantId} is not in room ${roomId}`);
				}
				return undefined;
			}
			case 'getStats':
				return this.#stats();
			case 'close':
				this.#closed = true;
				this.#stopClock();
				if (this.#statsTimer) {
					clearInterval(this.#statsTimer);
					this.#statsTimer = null;
				}
				for (const room of this.#roomList) {
					room.clear();
				}
				this.#rooms.clear();
				this.#roomList.length = 0;
				return undefined;
			default:
				throw new MixerError('MIXER_BAD_REQUEST', `unknown method ${String((req as { method: unknown }).method)}`);
		}
	}

	#room(roomId: string): MixRoom {
		const room = this.#rooms.get(roomId);
		if (!room) {
			throw new MixerError('MIXER_ROOM_NOT_FOUND', `no mixer room ${String(roomId)}`);
		}
		return room;
	}

	#startClock(): void {
		this.#start = performance.now();
		this.#k = 0;
		this.#window.reset();
		this.#schedule(0);
	}

	#stopClock(): void {
		if (this.#timer) {
			clearTimeout(this.#timer);
			this.#timer = null;
		}
	}

	#schedule(delayMs: number): void {
		this.#timer = setTimeout(this.#onTimer, delayMs > 0 ? delayMs : 0);
	}

	// An arrow property, so scheduling does not bind a new closure every tick.
	readonly #onTimer = (): void => {
		this.#timer = null;
		const frameMs = this.#frameMs;
		let now = performance.now();
		// Runs every tick that is due, but at most a few per wake so messages still get through.
		for (let run = 0; run <= MAX_BEHIND_FRAMES; run++) {
			const late = now - (this.#start + this.#k * frameMs);
			if (late < -EARLY_MS) {
				break;
			}
			if (late > MAX_BEHIND_FRAMES * frameMs) {
				// Too far behind (a GC pause, a stalled tick): start over from now, one tick, no burst.
				this.#overruns++;
				this.#resyncs++;
				this.#start = now;
				this.#k = 0;
			} else if (late > frameMs) {
				this.#overruns++;
			}
			this.#tick();
			this.#k++;
			now = performance.now();
		}
		if (this.#roomList.length > 0) {
			this.#schedule(this.#start + this.#k * frameMs - now);
		}
	};

	#tick(): void {
		const t0 = performance.now();
		const rooms = this.#roomList;
		const kernel = this.#kernel;
		for (let i = 0; i < rooms.length; i++) {
			rooms[i]!.tick(kernel);
		}
		const ms = performance.now() - t0;
		this.#window.record(ms * 1000);
		this.#histogram.record(ms * 1000);
		this.#ticks++;
		if (ms > this.#frameMs) {
			this.#overruns++;
		}
	}

	#stats(): MixerWorkerStats {
		let participants = 0;
		for (const room of this.#roomList) {
			participants += room.participants;
		}
		return {
			kernel: this.#kernel.name,
			rooms: this.#roomList.length,
			participants,
			ticks: this.#ticks,
			overruns: this.#overruns,
			resyncs: this.#resyncs,
			tickUs: this.#window.stats(),
			tickHistogram: this.#histogram.snapshot(),
		};
	}

	#notify(n: MixerNotification): void {
		this.#port.postMessage(n);
	}
}

function isRequest(msg: unknown): msg is MixerRequest {
	if (typeof msg !== 'object' || msg === null) {
		return false;
	}
	const m = msg as Record<string, unknown>;
	return (
		m['kind'] === 'request' &&
		typeof m['id'] === 'number' &&
		typeof m['method'] === 'string' &&
		typeof m['params'] === 'object' &&
		m['params'] !== null
	);
}

function requireId(id: unknown, what: string): asserts id is string {
	if (typeof id !== 'string' || id === '') {
		throw new MixerError('MIXER_BAD_REQUEST', `${what} must be a non-empty string`);
	}
}

function toWire(error: unknown): WireError {
	if (error instanceof ServerError) {
		return { code: error.code, message: error.message };
	}
	return { code: 'MIXER_BAD_REQUEST', message: error instanceof Error ? error.message : String(error) };
}

function main(): void {
	const port = parentPort;
	if (!port) {
		throw new Error('mixer worker must run in a worker thread');
	}
	const data = workerData as MixerWorkerData;
	const fail = (error: WireError): void => {
		port.postMessage({
			v: PROTOCOL_VERSION,
			kind: 'notification',
			event: 'startupError',
			data: error,
		} satisfies MixerNotification);
		port.close();
	};
	if (data?.v !== PROTOCOL_VERSION) {
		fail({
			code: 'MIXER_BAD_REQUEST',
			message: `host speaks protocol ${String(data?.v)}, worker speaks ${PROTOCOL_VERSION}`,
		});
		return;
	}
	let kernel: MixKernel;
	try {
		kernel = loadKernel();
	} catch (error) {
		// Keeps the loader's code (CONFIG_INVALID) so the host's caller sees why.
		fail(toWire(error));
		return;
	}
	new MixerWorker(port, kernel, data);
}

main();
