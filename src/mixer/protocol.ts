/**
 * Messages between MixerHost (main thread) and a mixer worker.
 *
 *   main → worker   MixerRequest       { v, kind: 'request', id, method, params }
 *   worker → main   MixerResponse      { v, kind: 'response', id, ok, error?, data? }
 *   worker → main   MixerNotification  { v, kind: 'notification', event, data }
 *
 * Every message carries the protocol version so a host and a worker from
 * different builds refuse each other instead of misreading fields. Requests
 * are answered in the order they were sent (one thread, FIFO port), which the
 * host relies on: it may send createRoom and addParticipant back to back.
 * Ring buffers travel as SharedArrayBuffers; postMessage shares, never copies.
 */
export const PROTOCOL_VERSION = 1;

/** Tick durations over the recent window, in microseconds. */
export interface TickDurationStats {
	p50: number;
	p99: number;
	max: number;
	/** How many ticks the percentiles cover. */
	samples: number;
}

export interface MixerWorkerStats {
	/** Which kernel the worker runs ('ts' or 'native'). */
	kernel: string;
	rooms: number;
	participants: number;
	ticks: number;
	/** Ticks whose work took longer than a frame, or that ran more than a frame late. */
	overruns: number;
	/** Times the clock gave up catching up and restarted from now. */
	resyncs: number;
	tickUs: TickDurationStats;
	/** Cumulative tick-duration histogram since the worker started (for Prometheus). */
	tickHistogram: TickHistogram;
}

/** Cumulative counts per upper bound (µs), Prometheus style: counts[i] = ticks ≤ boundsUs[i]. */
export interface TickHistogram {
	boundsUs: number[];
	counts: number[];
	sumUs: number;
	count: number;
}

export interface MixerCommands {
	createRoom: { params: { roomId: string; sampleRate: number; frameMs: number }; result: undefined };
	closeRoom: { params: { roomId: string }; result: undefined };
	addParticipant: {
		params: {
			roomId: string;
			participantId: string;
			/** Leg → mixer ring; the worker is its consumer. */
			input: SharedArrayBuffer;
			/** Mixer → leg ring; the worker is its producer. */
			output: SharedArrayBuffer;
		};
		result: undefined;
	};
	removeParticipant: { params: { roomId: string; participantId: string }; result: undefined };
	getStats: { params: Record<string, never>; result: MixerWorkerStats };
	/** Stops the clock and lets the worker exit; no ring is touched after the answer. */
	close: { params: Record<string, never>; result: undefined };
}

export type MixerMethod = keyof MixerCommands;
export type ParamsOf<M extends MixerMethod> = MixerCommands[M]['params'];
export type ResultOf<M extends MixerMethod> = MixerCommands[M]['result'];

export type MixerRequest = {
	[M in MixerMethod]: {
		v: typeof PROTOCOL_VERSION;
		kind: 'request';
		id: number;
		method: M;
		params: ParamsOf<M>;
	};
}[MixerMethod];

/** An error as it crosses the thread boundary: the code survives, the class is rebuilt. */
export interface WireError {
	code: string;
	message: string;
}

export interface MixerResponse {
	v: typeof PROTOCOL_VERSION;
	kind: 'response';
	id: number;
	ok: boolean;
	error?: WireError;
	data?: unknown;
}

export interface MixerNotifications {
	/** Sent once after start-up: the worker is listening and its kernel loaded. */
	ready: { kernel: string };
	/** The worker could not start (e.g. CONFSRV_MIXER_KERNEL=native without the addon). */
	startupError: WireError;
	/** Periodic, every statsIntervalMs; overruns are cumulative. */
	stats: MixerWorkerStats;
}

export type MixerNotification = {
	[E in keyof MixerNotifications]: {
		v: typeof PROTOCOL_VERSION;
		kind: 'notification';
		event: E;
		data: MixerNotifications[E];
	};
}[keyof MixerNotifications];

/** What the host hands a worker at spawn time. */
export interface MixerWorkerData {
	v: typeof PROTOCOL_VERSION;
	index: number;
	frameMs: number;
	/** 0 disables periodic stats notifications. */
	statsIntervalMs: number;
}

export type WorkerToHost = MixerResponse | MixerNotification;

/** Samples in one frame; throws when the rate does not divide into whole frames. */
export function frameSamplesFor(sampleRate: number, frameMs = 20): number {
	const n = (sampleRate * frameMs) / 1000;
	if (!Number.isInteger(n) || n <= 0) {
		throw new TypeError(`${sampleRate} Hz × ${frameMs} ms is not a whole number of samples`);
	}
	return n;
}
