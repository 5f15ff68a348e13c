/**
 * Client transactions (RFC 3261 §17.1) for INVITE and non-INVITE requests,
 * with the INVITE Accepted state of RFC 6026 §8.4 so 2xx retransmissions
 * still reach the TU (which ACKs each one).
 *
 *  INVITE:      calling ─1xx─► proceeding
 *                  │ 2xx ─► accepted ─Timer M─► terminated
 *                  │ 300-699: ACK ─► completed ─Timer D─► terminated
 *                  └ Timer B ─► terminated (timeout)
 *  non-INVITE:  trying ─1xx─► proceeding ─final─► completed ─Timer K─► terminated
 *                  └ Timer F ─► terminated (timeout)
 */
import { TypedEmitter } from '../../common/events.js';
import { childLogger } from '../../common/logger.js';
import type { Clock } from '../../common/time.js';
import { parseCSeq } from '../message/index.js';
import { SipHeaders, type SipAddress, type SipRequest, type SipResponse } from '../message/types.js';
import { firstHeaderValue, isReliable } from '../transport/via.js';
import { type TimerConfig, TimerSet } from './timers.js';

const log = childLogger({ mod: 'sip.transaction' });

export type ClientTransactionState = 'calling' | 'trying' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

export interface ClientTransactionHandlers {
	/** 1xx responses. */
	onProvisional?(res: SipResponse): void;
	/** The first final response. For a non-2xx to INVITE the ACK is already sent. */
	onFinal(res: SipResponse): void;
	/**
	 * Later 2xx responses to an INVITE (retransmissions, or other forks),
	 * which the TU must ACK again. Without it they go to onFinal.
	 */
	on2xxRetransmit?(res: SipResponse): void;
	/** Timer B/F fired (treat as 408), or a CANCELled INVITE got no final answer. */
	onTimeout?(): void;
	/** The request could not be sent (treat as 503, §17.1.4). Without it, onTimeout. */
	onTransportError?(err: Error): void;
}

export type ClientTransactionEvents = {
	terminated: [];
};

/** @internal What a client transaction needs from its layer. */
export interface ClientContext {
	readonly clock: Clock;
	readonly timers: TimerConfig;
	send(req: SipRequest, dest: SipAddress, onError: (err: Error) => void): void;
	/** Starts the CANCEL's own non-INVITE transaction (same branch, §9.1). */
	sendCancel(cancel: SipRequest, dest: SipAddress): void;
	terminated(tx: ClientTransaction): void;
}

/** Header lines of a request copied unchanged into its CANCEL or ACK. */
function copy(from: SipHeaders, to: SipHeaders, name: string): void {
	for (const v of from.getAll(name)) {
		to.append(name, v);
	}
}

/** Builds a request sharing `req`'s top Via, Call-ID, From, CSeq number and Route set. */
function derive(req: SipRequest, method: string, toValue: string): SipRequest {
	const via = req.headers.get('via');
	const cseq = req.headers.get('cseq');
	if (!via || !cseq) {
		throw new TypeError('request needs a Via and a CSeq');
	}
	const h = new SipHeaders();
	h.append('via', firstHeaderValue(via));
	h.append('max-forwards', '70');
	copy(req.headers, h, 'route');
	copy(req.headers, h, 'from');
	h.append('to', toValue);
	copy(req.headers, h, 'call-id');
	h.append('cseq', `${parseCSeq(cseq).seq} ${method}`);
	return { kind: 'request', method, uri: req.uri, version: 'SIP/2.0', headers: h, body: Buffer.alloc(0) };
}

/** The CANCEL for an INVITE (§9.1): same Request-URI, top Via, From, To, Call-ID, CSeq number, Route. */
export function createCancel(invite: SipRequest): SipRequest {
	return derive(invite, 'CANCEL', invite.headers.get('to') ?? '');
}

/** The ACK for a non-2xx final response (§17.1.1.3): like the INVITE but with the response's To. */
export function createNon2xxAck(invite: SipRequest, res: SipResponse): SipRequest {
	return derive(invite, 'ACK', res.headers.get('to') ?? invite.headers.get('to') ?? '');
}

export class ClientTransaction extends TypedEmitter<ClientTransactionEvents> {
	/** The request as sent, with the layer's Via on top. */
	readonly req: SipRequest;
	readonly dest: SipAddress;
	/** Matching key (§17.1.3): branch and CSeq method. */
	readonly id: string;
	readonly branch: string;
	readonly isInvite: boolean;
	readonly #handlers: ClientTransactionHandlers;
	readonly #ctx: ClientContext;
	readonly #reliable: boolean;
	readonly #timers: TimerSet;
	#state: ClientTransactionState;
	#ack: SipRequest | undefined;
	#cancelWanted = false;
	#cancelSent = false;

	/** @internal Created by TransactionLayer. */
	constructor(req: SipRequest, id: string, branch: string, dest: SipAddress, handlers: ClientTransactionHandlers, ctx: ClientContext) {
		super();
		this.req = req;
		this.dest = dest;
		this.id = id;
		this.branch = branch;
		this.isInvite = req.method === 'INVITE';
		this.#handlers = handlers;
		this.#ctx = ctx;
		this.#reliable = isReliable(dest.transport);
		this.#timers = new TimerSet(ctx.clock);
		this.#state = this.isInvite ? 'calling' : 'trying';
	}

	get state(): ClientTransactionState {
		return this.#state;
	}

	/** @internal Sends the request and starts Timers A/B or E/F. */
	start(): void {
		const { t1, t2 } = this.#ctx.timers;
		this.#sendRequest();
		if (this.isInvite) {
			if (!this.#reliable) {
				let a = t1;
				const timerA = (): void => {
					this.#sendRequest();
					a *= 2;
					this.#timers.start('A', a, timerA);
				};
				this.#timers.start('A', a, timerA);
			}
			this.#timers.start('B', 64 * t1, () => this.#timeout());
		} else {
			if (!this.#reliable) {
				let e = t1;
				const timerE = (): void => {
					this.#sendRequest();
					// §17.1.2.2: doubling up to T2 while Trying, T2 once Proceeding.
					e = this.#state === 'proceeding' ? t2 : Math.min(2 * e, t2);
					this.#timers.start('E', e, timerE);
				};
				this.#timers.start('E', e, timerE);
			}
			this.#timers.start('F', 64 * t1, () => this.#timeout());
		}
	}

	/**
	 * Cancels a pending INVITE (§9.1). The CANCEL goes out once a provisional
	 * response has arrived (before that it must wait); the INVITE then
	 * normally ends with a 487 through onFinal. Returns false when it is too
	 * late (a final response arrived) or this is not an INVITE.
	 */
	cancel(): boolean {
		if (!this.isInvite || (this.#state !== 'calling' && this.#state !== 'proceeding')) {
			return false;
		}
		this.#cancelWanted = true;
		if (this.#state === 'proceeding' && !this.#cancelSent) {
			this.#sendCancel();
		}
		return true;
	}

	/** @internal A response matched this transaction. */
	handleResponse(res: SipResponse): void {
		const s = this.#state;
		const waiting = s === 'calling' || s === 'trying' || s === 'proceeding';
		if (res.status < 200) {
			if (waiting) {
				this.#state = 'proceeding';
				if (this.isInvite) {
					// Timer B only runs in Calling; A stops on any response.
					this.#timers.cancel('A');
					this.#timers.cancel('B');
					if (this.#cancelWanted && !this.#cancelSent) {
						this.#sendCancel();
					}
				}
				this.#call(() => this.#handlers.onProvisional?.(res));
			}
			return;
		}
		const { t1, t4 } = this.#ctx.timers;
		if (!this.isInvite) {
			if (waiting) {
				this.#state = 'completed';
				this.#timers.cancelAll();
				this.#call(() => this.#handlers.onFinal(res));
				this.#wait('K', this.#reliable ? 0 : t4);
			}
			return;
		}
		if (res.status < 300) {
			if (waiting) {
				this.#state = 'accepted';
				this.#timers.cancelAll();
				this.#timers.start('M', 64 * t1, () => this.#terminate());
				this.#call(() => this.#handlers.onFinal(res));
			} else if (s === 'accepted') {
				const h = this.#handlers;
				this.#call(() => (h.on2xxRetransmit ? h.on2xxRetransmit(res) : h.onFinal(res)));
			}
			return;
		}
		if (waiting) {
			this.#state = 'completed';
			this.#timers.cancelAll();
			this.#ack = createNon2xxAck(this.req, res);
			this.#sendAck();
			this.#call(() => this.#handlers.onFinal(res));
			// Timer D: >32 s over UDP to absorb final-response retransmissions.
			this.#wait('D', this.#reliable ? 0 : Math.max(32_000, 64 * t1));
		} else if (s === 'completed') {
			this.#sendAck();
		}
	}

	/** @internal Stops every timer without callbacks (layer close). */
	destroy(): void {
		this.#timers.cancelAll();
		this.#state = 'terminated';
	}

	#sendRequest(): void {
		this.#ctx.send(this.req, this.dest, (err) => this.#transportError(err));
	}

	#sendAck(): void {
		if (this.#ack) {
			this.#ctx.send(this.#ack, this.dest, (err) => log.debug({ err }, 'ACK send failed'));
		}
	}

	#sendCancel(): void {
		this.#cancelSent = true;
		try {
			this.#ctx.sendCancel(createCancel(this.req), this.dest);
		} catch (err) {
			log.warn({ err }, 'could not build CANCEL');
		}
		// §9.1: without a final response 64*T1 after the CANCEL, give up.
		this.#timers.start('cancel', 64 * this.#ctx.timers.t1, () => this.#timeout());
	}

	#transportError(err: Error): void {
		const s = this.#state;
		if (s !== 'calling' && s !== 'trying' && s !== 'proceeding') {
			return;
		}
		log.debug({ err, method: this.req.method }, 'request send failed');
		this.#terminate();
		const h = this.#handlers;
		this.#call(() => (h.onTransportError ? h.onTransportError(err) : h.onTimeout?.()));
	}

	#timeout(): void {
		const s = this.#state;
		if (s !== 'calling' && s !== 'trying' && s !== 'proceeding') {
			return;
		}
		this.#terminate();
		this.#call(() => this.#handlers.onTimeout?.());
	}

	/** A wait timer; zero (reliable transports) ends the transaction now. */
	#wait(name: string, ms: number): void {
		if (ms <= 0) {
			this.#terminate();
		} else {
			this.#timers.start(name, ms, () => this.#terminate());
		}
	}

	#terminate(): void {
		if (this.#state === 'terminated') {
			return;
		}
		this.#state = 'terminated';
		this.#timers.cancelAll();
		this.#ctx.terminated(this);
		this.safeEmit('terminated');
	}

	/** TU callbacks run isolated: a throwing handler must not break the stack. */
	#call(fn: () => void): void {
		try {
			fn();
		} catch (err) {
			log.error({ err, method: this.req.method }, 'transaction handler threw');
		}
	}
}
