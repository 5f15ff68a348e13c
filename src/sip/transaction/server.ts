/**
 * Server transactions (RFC 3261 §17.2) for INVITE and non-INVITE requests,
 * plus the UAS core's 2xx retransmission until the ACK (§13.3.1.4), run in
 * the INVITE transaction's Accepted state (RFC 6026 §7.1).
 *
 *  INVITE:      proceeding ─1xx─► proceeding
 *                   │ 2xx: send, retransmit T1…T2 (UDP) ─► accepted ─Timer L─► terminated
 *                   │ 300-699: send, Timer G (UDP), H ─► completed ─ACK─► confirmed ─Timer I─► terminated
 *  non-INVITE:  trying ─1xx─► proceeding ─final─► completed ─Timer J─► terminated
 */
import { InvalidStateError } from '../../common/errors.js';
import { TypedEmitter } from '../../common/events.js';
import { childLogger } from '../../common/logger.js';
import type { Clock } from '../../common/time.js';
import { createResponse, parseNameAddr } from '../message/index.js';
import type { SipAddress, SipRequest, SipResponse } from '../message/types.js';
import { isReliable } from '../transport/via.js';
import { type TimerConfig, TimerSet } from './timers.js';

const log = childLogger({ mod: 'sip.transaction' });

export type ServerTransactionState = 'trying' | 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

export type ServerTransactionEvents = {
	/** A CANCEL matched this INVITE before its final response; the CANCEL was already answered 200. */
	cancel: [SipRequest];
	/** The first ACK for this INVITE's 2xx (also emitted as the layer's 'ack'). */
	ack: [SipRequest];
	/** 64*T1 passed after a 2xx without its ACK: the TU should send BYE. */
	acktimeout: [];
	/** Sending a response failed (§17.2.4); the transaction is terminated. */
	transporterror: [Error];
	terminated: [];
};

/** @internal What a server transaction needs from its layer. */
export interface ServerContext {
	readonly clock: Clock;
	readonly timers: TimerConfig;
	/** Delay before an automatic 100 Trying to INVITE; non-finite disables it. */
	readonly tryingDelay: number;
	send(res: SipResponse, dest: SipAddress, onError: (err: Error) => void): void;
	terminated(tx: ServerTransaction): void;
}

export class ServerTransaction extends TypedEmitter<ServerTransactionEvents> {
	/** The request that created the transaction. */
	readonly req: SipRequest;
	/** Matching key (§17.2.3). */
	readonly id: string;
	readonly isInvite: boolean;
	readonly #ctx: ServerContext;
	readonly #dest: SipAddress;
	readonly #reliable: boolean;
	readonly #timers: TimerSet;
	#state: ServerTransactionState;
	#last: SipResponse | undefined;
	#acked = false;

	/** @internal Created by TransactionLayer. */
	constructor(req: SipRequest, id: string, dest: SipAddress, ctx: ServerContext) {
		super();
		this.req = req;
		this.id = id;
		this.isInvite = req.method === 'INVITE';
		this.#ctx = ctx;
		this.#dest = dest;
		this.#reliable = isReliable(dest.transport);
		this.#timers = new TimerSet(ctx.clock);
		this.#state = this.isInvite ? 'proceeding' : 'trying';
		if (this.isInvite && Number.isFinite(ctx.tryingDelay)) {
			// §17.2.1: 100 Trying unless the TU answers within 200 ms, so the
			// client stops retransmitting the INVITE.
			this.#timers.start('trying', ctx.tryingDelay, () => {
				if (this.#state === 'proceeding' && !this.#last) {
					this.#send(createResponse(this.req, 100, 'Trying'));
				}
			});
		}
	}

	get state(): ServerTransactionState {
		return this.#state;
	}

	get method(): string {
		return this.req.method;
	}

	/** Where responses go (§18.2.2). */
	get destination(): SipAddress {
		return this.#dest;
	}

	/** The most recent response sent, if any. */
	get lastResponse(): SipResponse | undefined {
		return this.#last;
	}

	/** The To tag of the last response sent, to reuse in the 200 for a CANCEL. */
	get toTag(): string | undefined {
		const to = this.#last?.headers.get('to');
		if (!to) {
			return undefined;
		}
		try {
			return parseNameAddr(to).params['tag'] ?? undefined;
		} catch {
			return undefined;
		}
	}

	/**
	 * Sends a response. Provisional responses may repeat; one final response
	 * ends the transaction's answering part, and a second throws.
	 */
	respond(res: SipResponse): void {
		const s = this.#state;
		if (s !== 'trying' && s !== 'proceeding') {
			throw new InvalidStateError(`cannot respond in state ${s}`);
		}
		this.#timers.cancel('trying');
		const { t1, t2 } = this.#ctx.timers;
		if (res.status < 200) {
			this.#state = 'proceeding';
			this.#send(res);
			return;
		}
		this.#send(res);
		if (!this.isInvite) {
			this.#state = 'completed';
			this.#wait('J', this.#reliable ? 0 : 64 * t1);
			return;
		}
		if (res.status < 300) {
			// RFC 6026 Accepted: absorb INVITE retransmissions, retransmit the
			// 2xx until its ACK (§13.3.1.4), give up after 64*T1 (Timer L).
			this.#state = 'accepted';
			if (!this.#reliable) {
				this.#retransmit('2xx', t1, t2);
			}
			this.#timers.start('L', 64 * t1, () => {
				if (!this.#acked) {
					this.safeEmit('acktimeout');
				}
				this.#terminate();
			});
			return;
		}
		this.#state = 'completed';
		if (!this.#reliable) {
			this.#retransmit('G', t1, t2);
		}
		this.#timers.start('H', 64 * t1, () => this.#terminate());
	}

	/** @internal A retransmission of the request arrived. */
	handleRetransmission(): void {
		switch (this.#state) {
			case 'proceeding':
			case 'completed': {
				// INVITE: the last provisional (or the final in Completed);
				// non-INVITE: whatever was sent last.
				if (this.#last) {
					this.#send(this.#last);
				}
				break;
			}
			default: {
				// trying, confirmed, accepted, terminated: absorbed.
				break;
			}
		}
	}

	/** @internal An ACK with this INVITE's branch (ACK for a non-2xx final). */
	handleAck(): void {
		if (this.#state !== 'completed') {
			return;
		}
		this.#state = 'confirmed';
		this.#timers.cancel('G');
		this.#timers.cancel('H');
		this.#wait('I', this.#reliable ? 0 : this.#ctx.timers.t4);
	}

	/**
	 * @internal An ACK for this INVITE's 2xx (matched on Call-ID and CSeq).
	 * Returns true for the first one, which the TU must see.
	 */
	handle2xxAck(ack: SipRequest): boolean {
		if (this.#state !== 'accepted' || this.#acked) {
			return false;
		}
		this.#acked = true;
		this.#timers.cancel('2xx');
		this.safeEmit('ack', ack);
		return true;
	}

	/** @internal A CANCEL matched; it has been answered. Returns whether the TU was told. */
	handleCancel(cancel: SipRequest): boolean {
		if (this.#state !== 'proceeding') {
			return false;
		}
		this.safeEmit('cancel', cancel);
		return true;
	}

	/** @internal Stops every timer without events (layer close). */
	destroy(): void {
		this.#timers.cancelAll();
		this.#state = 'terminated';
	}

	#send(res: SipResponse): void {
		this.#last = res;
		this.#ctx.send(res, this.#dest, (err) => {
			if (this.#state === 'terminated') {
				return;
			}
			log.debug({ err, method: this.req.method }, 'response send failed');
			this.safeEmit('transporterror', err);
			this.#terminate();
		});
	}

	/** Resends the last response at `first`, doubling up to `cap`. */
	#retransmit(name: string, first: number, cap: number): void {
		let interval = first;
		const tick = (): void => {
			if (this.#last) {
				this.#send(this.#last);
			}
			interval = Math.min(interval * 2, cap);
			this.#timers.start(name, interval, tick);
		};
		this.#timers.start(name, interval, tick);
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
}
