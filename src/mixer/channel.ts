import type { Worker } from 'node:worker_threads';
import { ServerError } from '../common/errors.js';
import { MixerError, type MixerErrorCode } from './errors.js';
import {
	type MixerNotification,
	type MixerMethod,
	type MixerRequest,
	type ParamsOf,
	type ResultOf,
	type WireError,
	type WorkerToHost,
	PROTOCOL_VERSION,
} from './protocol.js';

interface Pending {
	method: MixerMethod;
	resolve: (data: unknown) => void;
	reject: (error: Error) => void;
	timer: NodeJS.Timeout;
}

const KNOWN_CODES = new Set<string>([
	'MIXER_ROOM_NOT_FOUND',
	'MIXER_ROOM_EXISTS',
	'MIXER_PARTICIPANT_NOT_FOUND',
	'MIXER_PARTICIPANT_EXISTS',
	'MIXER_FRAME_MISMATCH',
	'MIXER_RING_IN_USE',
	'MIXER_BAD_REQUEST',
	'MIXER_TIMEOUT',
	'MIXER_WORKER_DIED',
] satisfies MixerErrorCode[]);

/**
 * Request/response over one worker's port, matched by id (mediasoup's
 * Channel). Every request gets an answer, a timeout, or the error it was
 * failed with when the worker went away; none is left hanging.
 */
export class WorkerChannel {
	readonly #worker: Worker;
	readonly #pending = new Map<number, Pending>();
	readonly #onNotification: (n: MixerNotification) => void;
	#nextId = 0;
	/** Set once the worker is gone: new requests fail at once with it. */
	#closedWith: Error | null = null;

	constructor(worker: Worker, onNotification: (n: MixerNotification) => void) {
		this.#worker = worker;
		this.#onNotification = onNotification;
		worker.on('message', (msg: WorkerToHost) => this.#onMessage(msg));
	}

	get closed(): boolean {
		return this.#closedWith !== null;
	}

	request<M extends MixerMethod>(method: M, params: ParamsOf<M>, timeoutMs: number): Promise<ResultOf<M>> {
		if (this.#closedWith) {
			return Promise.reject(this.#closedWith);
		}
		const id = ++this.#nextId;
		return new Promise<ResultOf<M>>((resolve, reject) => {
			const timer = setTimeout(() => {
				this.#pending.delete(id);
				reject(new MixerError('MIXER_TIMEOUT', `mixer ${method} got no answer within ${timeoutMs} ms`));
			}, timeoutMs);
			// The worker keeps the process alive while it runs; a pending timer should not.
			timer.unref();
			this.#pending.set(id, { method, resolve: resolve as (data: unknown) => void, reject, timer });
			const req = { v: PROTOCOL_VERSION, kind: 'request', id, method, params } as MixerRequest;
			this.#worker.postMessage(req);
		});
	}

	/** Fails every request in flight; the channel stays usable. */
	rejectPending(error: Error): void {
		const pending = [...this.#pending.values()];
		this.#pending.clear();
		for (const p of pending) {
			clearTimeout(p.timer);
			p.reject(error);
		}
	}

	/** The worker is gone: fail what is in flight and everything after. */
	close(error: Error): void {
		if (!this.#closedWith) {
			this.#closedWith = error;
		}
		this.rejectPending(error);
	}

	#onMessage(msg: WorkerToHost): void {
		if (typeof msg !== 'object' || msg === null || msg.v !== PROTOCOL_VERSION) {
			return;
		}
		if (msg.kind === 'notification') {
			this.#onNotification(msg);
			return;
		}
		const p = this.#pending.get(msg.id);
		if (!p) {
			// Answered after its timeout; the caller has already been told.
			return;
		}
		this.#pending.delete(msg.id);
		clearTimeout(p.timer);
		if (msg.ok) {
			p.resolve(msg.data);
		} else {
			p.reject(fromWire(msg.error ?? { code: 'MIXER_BAD_REQUEST', message: `${p.method} failed` }));
		}
	}
}

/** Rebuilds a worker's error: mixer codes become MixerError, anything else keeps its code. */
export function fromWire(e: WireError): ServerError {
	if (KNOWN_CODES.has(e.code)) {
		return new MixerError(e.code as MixerErrorCode, e.message);
	}
	return new ServerError(e.code, e.message);
}
