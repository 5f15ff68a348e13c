import { sipMessageChannel, type SipMessageEvent } from '../../common/diagnostics.js';
/**
 * The transaction layer (RFC 3261 §17): matches requests to server
 * transactions and responses to client transactions, absorbs
 * retransmissions, answers CANCEL (§9.2), and hands new requests, ACKs for
 * 2xx and stray responses to the TU.
 */
import os from 'node:os';
import net from 'node:net';
import { InvalidStateError } from '../../common/errors.js';
import { TypedEmitter } from '../../common/events.js';
import { childLogger } from '../../common/logger.js';
import { type Clock, realClock } from '../../common/time.js';
import { createResponse, generateBranch, generateTag, parseCSeq, parseNameAddr } from '../message/index.js';
import type { CSeq, SipAddress, SipMessage, SipRequest, SipResponse, Via } from '../message/types.js';
import { defaultPort, responseDestination, topVia } from '../transport/via.js';
import { ClientTransaction, type ClientContext, type ClientTransactionHandlers } from './client.js';
import { type ServerContext, ServerTransaction } from './server.js';
import { DEFAULT_TIMERS, type TimerConfig } from './timers.js';

const log = childLogger({ mod: 'sip.transaction' });

/** What the layer needs from a transport; TransportLayer fits, and so does a test fake. */
export interface TransactionTransport {
	send(msg: SipMessage, dest: SipAddress, onError?: (err: Error) => void): void;
	on(event: 'message', listener: (msg: SipMessage) => void): unknown;
	off(event: 'message', listener: (msg: SipMessage) => void): unknown;
	/** Listening host, used for our Via sent-by unless viaHost is given. */
	readonly host?: string;
	readonly port: number;
}

export interface TransactionLayerOptions extends Partial<TimerConfig> {
	/** Default realClock. */
	clock?: Clock;
	/** Delay before an automatic 100 Trying to INVITE; default 200 ms, Infinity disables. */
	tryingDelay?: number;
	/** Host for our Via sent-by; default the transport's host (or a local address if it is a wildcard). */
	viaHost?: string;
	/** Port for our Via sent-by; default the transport's port. */
	viaPort?: number;
}

export type TransactionLayerEvents = {
	/** A new request (never ACK or CANCEL); answer it with tx.respond(). */
	request: [SipRequest, ServerTransaction];
	/** An ACK that belongs to the TU: ACK for a 2xx (once per 2xx), or one matching nothing. */
	ack: [SipRequest];
	/** A response matching no client transaction (e.g. a 2xx retransmission after Timer M). */
	response: [SipResponse];
};

const MAGIC_COOKIE = 'z9hG4bK';

interface RequestIds {
	via: Via;
	cseq: CSeq;
	callId: string;
}

function requestIds(req: SipRequest): RequestIds {
	const via = topVia(req);
	const cseqText = req.headers.get('cseq');
	const callId = req.headers.get('call-id');
	if (!via || !cseqText || !callId) {
		throw new TypeError('missing Via, CSeq or Call-ID');
	}
	return { via, cseq: parseCSeq(cseqText), callId };
}

/**
 * §17.2.3: branch + sent-by + method (ACK counts as INVITE). Branches
 * without the magic cookie come from RFC 2543 peers; for those, Call-ID,
 * CSeq number, From tag and sent-by approximate the old matching rules.
 */
function serverKey(req: SipRequest, ids: RequestIds, method: string): string {
	const { via } = ids;
	const sentBy = `${via.host.toLowerCase()}:${via.port ?? defaultPort(via.transport)}`;
	const branch = via.params['branch'];
	if (branch && branch.startsWith(MAGIC_COOKIE)) {
		return `${branch}|${sentBy}|${method}`;
	}
	let fromTag = '';
	try {
		fromTag = parseNameAddr(req.headers.get('from') ?? '').params['tag'] ?? '';
	} catch {
		// An unreadable From still gets a transaction; its tag is just absent.
	}
	return `2543|${ids.callId}|${ids.cseq.seq}|${fromTag}|${sentBy}|${method}`;
}

/** The first non-internal IPv4 address, for a Via when we listen on a wildcard. */
function localAddress(): string {
	for (const list of Object.values(os.networkInterfaces())) {
		for (const i of list ?? []) {
			if (i.family === 'IPv4' && !i.internal) {
				return i.address;
			}
		}
	}
	return '127.0.0.1';
}

export class TransactionLayer extends TypedEmitter<TransactionLayerEvents> {
	readonly #transport: TransactionTransport;
	readonly #timers: TimerConfig;
	readonly #clock: Clock;
	readonly #opts: TransactionLayerOptions;
	readonly #servers = new Map<string, ServerTransaction>();
	readonly #clients = new Map<string, ClientTransaction>();
	// INVITE server transactions by Call-ID and CSeq number: an ACK for a 2xx
	// has its own branch, so this is how it finds its INVITE.
	readonly #invites = new Map<string, ServerTransaction>();
	readonly #inviteKeys = new Map<ServerTransaction, string>();
	// Requests that carry a Via we added, so resending one (e.g. with
	// credentials after a 401) replaces it instead of stacking another.
	readonly #stamped = new WeakSet<SipRequest>();
	readonly #serverCtx: ServerContext;
	readonly #clientCtx: ClientContext;
	readonly #onMessage = (msg: SipMessage): void => {
		publishSip(msg, 'in', msg.source?.transport ?? 'udp');
		this.#receive(msg);
	};
	#viaHost: string | undefined;
	#closed = false;

	constructor(transport: TransactionTransport, opts: TransactionLayerOptions = {}) {
		super();
		this.#transport = transport;
		this.#opts = opts;
		this.#clock = opts.clock ?? realClock;
		this.#timers = {
			t1: opts.t1 ?? DEFAULT_TIMERS.t1,
			t2: opts.t2 ?? DEFAULT_TIMERS.t2,
			t4: opts.t4 ?? DEFAULT_TIMERS.t4,
		};
		const send = (msg: SipMessage, dest: SipAddress, onError: (err: Error) => void): void => {
			if (!this.#closed) {
				publishSip(msg, 'out', dest.transport);
				transport.send(msg, dest, onError);
			}
		};
		this.#serverCtx = {
			clock: this.#clock,
			timers: this.#timers,
			tryingDelay: opts.tryingDelay ?? 200,
			send,
			terminated: (tx) => this.#serverTerminated(tx),
		};
		this.#clientCtx = {
			clock: this.#clock,
			timers: this.#timers,
			send,
			sendCancel: (cancel, dest) => this.#startCancel(cancel, dest),
			terminated: (tx) => {
				if (this.#clients.get(tx.id) === tx) {
					this.#clients.delete(tx.id);
				}
			},
		};
		transport.on('message', this.#onMessage);
	}

	get timers(): Readonly<TimerConfig> {
		return this.#timers;
	}

	get serverTransactionCount(): number {
		return this.#servers.size;
	}

	get clientTransactionCount(): number {
		return this.#clients.size;
	}

	/**
	 * Starts a client transaction: adds our Via (fresh branch, rport) on top
	 * and Max-Forwards when missing, sends, and retransmits per Timer A/E.
	 * A non-2xx final to INVITE is ACKed here; 2xx are ACKed by the TU with
	 * sendAck(). Not for ACK (use sendAck) or CANCEL (use tx.cancel()).
	 */
	sendRequest(req: SipRequest, dest: SipAddress, handlers: ClientTransactionHandlers): ClientTransaction {
		if (this.#closed) {
			throw new InvalidStateError('transaction layer closed');
		}
		if (req.method === 'ACK' || req.method === 'CANCEL') {
			throw new TypeError(`${req.method} is not sent with sendRequest()`);
		}
		const cseq = parseCSeq(req.headers.get('cseq') ?? '');
		const branch = this.#stampVia(req, dest);
		const id = `${branch}|${cseq.method}`;
		const tx = new ClientTransaction(req, id, branch, dest, handlers, this.#clientCtx);
		this.#clients.set(id, tx);
		tx.start();
		return tx;
	}

	/** Sends the TU's ACK for a 2xx (no transaction, §17.1.1.3). Adds a Via once. */
	sendAck(ack: SipRequest, dest: SipAddress): void {
		if (ack.method !== 'ACK') {
			throw new TypeError('sendAck() sends ACK requests only');
		}
		this.sendStateless(ack, dest);
	}

	/**
	 * Sends without a transaction. A request without a Via gets ours (fresh
	 * branch); one that has a Via is sent as it is, so resending the same ACK
	 * keeps its branch.
	 */
	sendStateless(msg: SipMessage, dest: SipAddress): void {
		if (this.#closed) {
			throw new InvalidStateError('transaction layer closed');
		}
		if (msg.kind === 'request' && !msg.headers.has('via')) {
			this.#stampVia(msg, dest);
		}
		publishSip(msg, 'out', dest.transport);
		this.#transport.send(msg, dest, (err) => log.debug({ err, dest }, 'stateless send failed'));
	}

	/** Cancels every timer and forgets every transaction; no callbacks fire afterwards. */
	close(): void {
		if (this.#closed) {
			return;
		}
		this.#closed = true;
		this.#transport.off('message', this.#onMessage);
		for (const tx of this.#servers.values()) {
			tx.destroy();
		}
		for (const tx of this.#clients.values()) {
			tx.destroy();
		}
		this.#servers.clear();
		this.#clients.clear();
		this.#invites.clear();
		this.#inviteKeys.clear();
	}

	#stampVia(req: SipRequest, dest: SipAddress): string {
		const branch = generateBranch();
		if (this.#stamped.has(req)) {
			const i = req.headers.entries.findIndex(([k]) => k === 'via');
			if (i >= 0) {
				req.headers.entries.splice(i, 1);
			}
		}
		let host = this.#viaHost;
		if (host === undefined) {
			host = this.#opts.viaHost ?? this.#transport.host ?? '';
			if (host === '' || host === '0.0.0.0' || host === '::') {
				host = localAddress();
			}
			this.#viaHost = host;
		}
		const port = this.#opts.viaPort ?? this.#transport.port;
		const sentBy = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
		req.headers.prepend('via', `SIP/2.0/${dest.transport.toUpperCase()} ${sentBy};branch=${branch};rport`);
		if (!req.headers.has('max-forwards')) {
			req.headers.append('max-forwards', '70');
		}
		this.#stamped.add(req);
		return branch;
	}

	#startCancel(cancel: SipRequest, dest: SipAddress): void {
		if (this.#closed) {
			return;
		}
		const branch = topVia(cancel)?.params['branch'] ?? '';
		const id = `${branch}|CANCEL`;
		// The CANCEL's own final response needs no action from the TU; the
		// INVITE's 487 (or 200) is what matters.
		const tx = new ClientTransaction(cancel, id, branch, dest, { onFinal: () => {} }, this.#clientCtx);
		this.#clients.set(id, tx);
		tx.start();
	}

	#receive(msg: SipMessage): void {
		if (this.#closed) {
			return;
		}
		try {
			if (msg.kind === 'request') {
				this.#receiveRequest(msg);
			} else {
				this.#receiveResponse(msg);
			}
		} catch (err) {
			log.error({ err }, 'transaction layer failed on a message');
		}
	}

	#receiveRequest(req: SipRequest): void {
		let ids: RequestIds;
		try {
			ids = requestIds(req);
		} catch (err) {
			this.#reject(req, `Bad Request (${(err as Error).message})`);
			return;
		}
		if (ids.cseq.method.toUpperCase() !== req.method.toUpperCase()) {
			this.#reject(req, 'Bad Request (CSeq method does not match)');
			return;
		}
		if (req.method === 'ACK') {
			this.#receiveAck(req, ids);
			return;
		}
		if (req.method === 'CANCEL') {
			this.#receiveCancel(req, ids);
			return;
		}
		const key = serverKey(req, ids, req.method);
		const existing = this.#servers.get(key);
		if (existing) {
			existing.handleRetransmission();
			return;
		}
		const tx = this.#createServer(req, key);
		if (req.method === 'INVITE') {
			const k = `${ids.callId}|${ids.cseq.seq}`;
			this.#invites.set(k, tx);
			this.#inviteKeys.set(tx, k);
		}
		try {
			this.emit('request', req, tx);
		} catch (err) {
			// Like an app router's default: a throwing TU still answers.
			log.error({ err, method: req.method }, 'request listener threw');
			if (tx.state === 'trying' || tx.state === 'proceeding') {
				tx.respond(createResponse(req, 500, 'Server Internal Error'));
			}
		}
	}

	#receiveAck(ack: SipRequest, ids: RequestIds): void {
		const invite = this.#servers.get(serverKey(ack, ids, 'INVITE'));
		if (invite && (invite.state === 'completed' || invite.state === 'confirmed')) {
			// ACK for our non-2xx: part of the INVITE transaction (§17.2.1).
			invite.handleAck();
			return;
		}
		const accepted = this.#invites.get(`${ids.callId}|${ids.cseq.seq}`);
		if (accepted && accepted.state === 'accepted') {
			// ACK for our 2xx: the TU sees the first; later copies are absorbed.
			if (accepted.handle2xxAck(ack)) {
				this.safeEmit('ack', ack);
			}
			return;
		}
		this.safeEmit('ack', ack);
	}

	#receiveCancel(cancel: SipRequest, ids: RequestIds): void {
		const key = serverKey(cancel, ids, 'CANCEL');
		const existing = this.#servers.get(key);
		if (existing) {
			existing.handleRetransmission();
			return;
		}
		const tx = this.#createServer(cancel, key);
		// §9.2: the CANCEL matches the INVITE it shares branch and sent-by with.
		const invite = this.#servers.get(serverKey(cancel, ids, 'INVITE'));
		if (!invite) {
			tx.respond(createResponse(cancel, 481, 'Call/Transaction Does Not Exist'));
			return;
		}
		tx.respond(createResponse(cancel, 200, 'OK', { toTag: invite.toTag ?? generateTag() }));
		invite.handleCancel(cancel);
	}

	#receiveResponse(res: SipResponse): void {
		let id: string;
		try {
			const via = topVia(res);
			const cseq = parseCSeq(res.headers.get('cseq') ?? '');
			id = `${via?.params['branch'] ?? ''}|${cseq.method}`;
		} catch (err) {
			log.debug({ err }, 'dropped response without a readable Via or CSeq');
			return;
		}
		const tx = this.#clients.get(id);
		if (tx) {
			tx.handleResponse(res);
		} else {
			this.safeEmit('response', res);
		}
	}

	#createServer(req: SipRequest, key: string): ServerTransaction {
		const tx = new ServerTransaction(req, key, responseDestination(req), this.#serverCtx);
		this.#servers.set(key, tx);
		return tx;
	}

	#serverTerminated(tx: ServerTransaction): void {
		if (this.#servers.get(tx.id) === tx) {
			this.#servers.delete(tx.id);
		}
		const k = this.#inviteKeys.get(tx);
		if (k !== undefined) {
			this.#inviteKeys.delete(tx);
			if (this.#invites.get(k) === tx) {
				this.#invites.delete(k);
			}
		}
	}

	/** A request we cannot run a transaction for gets a stateless 400 (never an ACK). */
	#reject(req: SipRequest, reason: string): void {
		if (req.method === 'ACK') {
			return;
		}
		try {
			this.#transport.send(createResponse(req, 400, reason), responseDestination(req), (err) => log.debug({ err }, 'could not send 400'));
		} catch (err) {
			log.debug({ err }, 'dropped a request too broken to answer');
		}
	}
}

/** Feeds the SIP counters of /metrics; free when nobody subscribes. */
function publishSip(msg: SipMessage, direction: 'in' | 'out', transport: string): void {
	if (!sipMessageChannel.hasSubscribers) {
		return;
	}
	const event: SipMessageEvent =
		msg.kind === 'request'
			? { direction, method: msg.method, transport }
			: { direction, status: msg.status, cseqMethod: (msg.headers.get('cseq') ?? '').trim().split(/\s+/)[1] ?? '', transport };
	sipMessageChannel.publish(event);
}
