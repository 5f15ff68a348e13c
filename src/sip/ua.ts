import { TypedEmitter } from '../common/events.js';
import { InvalidStateError } from '../common/errors.js';
import { childLogger, type Logger } from '../common/logger.js';
import { realClock, type Clock, type TimerHandle } from '../common/time.js';
import {
	createResponse,
	generateCallId,
	generateTag,
	getVias,
	parseCSeq,
	parseNameAddr,
	parseUri,
	SipHeaders,
	type SipAddress,
	type SipMessage,
	type SipRequest,
	type SipResponse,
	type SipUri,
	type Via,
} from './message/index.js';
import { defaultPort, topVia, TransportLayer } from './transport/index.js';
import { TransactionLayer, type ClientTransaction, type ServerTransaction, type TransactionTransport } from './transaction/index.js';
import { buildAuthorization, selectChallenge } from './auth/digest.js';
import { Dialog, recordRoutes, type Credentials } from './dialog.js';

export { Dialog, recordRoutes, type Credentials, type DialogEvents, type DialogRole, type DialogRequestOptions, type ReferRequest, type SessionModify } from './dialog.js';

/**
 * The user-agent core (RFC 3261 §8, §12-15) over the transaction layer: routes
 * new INVITEs to the application and other out-of-dialog methods to their
 * handlers (REGISTER → registrar), keeps dialogs, answers in-dialog requests,
 * and gives every request an answer (404/405/481/501 defaults, drachtio's
 * "safe defaults" rule).
 *
 * In front of everything (checked in this order):
 *   per-source rate limit     → silently dropped (one warn line per source per 10 s)
 *   SIP version               → 505
 *   Max-Forwards: 0           → 483 (OPTIONS excepted, §8.2.2 / §16.3)
 *   a Via we sent ourselves   → 482 (the request looped back to us)
 *   merged request (§8.2.2.2) → 482
 *   INVITE authentication     → 407 / 403 when the policy hook says so
 */
export interface UaOptions {
	host: string;
	port: number;
	advertisedAddress: string;
	udp: boolean;
	tcp: boolean;
	t1Ms: number;
	userAgent: string;
	/**
	 * Token bucket per source IP address over incoming requests (responses are
	 * not limited). Requests over the limit are dropped without an answer, an
	 * INVITE too: a 503 would cost the flood's sender nothing and us a
	 * transaction. perSecond 0 or absent: no limit.
	 */
	rateLimit?: { perSecond: number; burst: number };
	clock?: Clock;
	log?: Logger;
}

export type UaEvents = {
	invite: [IncomingInvite];
	dialogcreated: [Dialog];
	dialogdestroyed: [Dialog, string];
};

/** A final answer from a request handler or policy hook; the UA adds To tag and Server. */
export interface SipReply {
	status: number;
	reason?: string;
	headers?: Array<[string, string]>;
}

/** Answers one out-of-dialog request of a method (see SipUserAgent.handle). */
export type RequestHandler = (req: SipRequest) => SipReply;

/**
 * Asked before an out-of-dialog INVITE reaches the application: go on (with
 * the authenticated user, if any) or answer with `reject` (407 challenge, 403 …).
 */
export type InviteAuthenticator = (req: SipRequest) => { ok: true; user?: { extension: string } } | { ok: false; reject: SipReply };

const BASE_ALLOW = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'INFO', 'UPDATE', 'REFER', 'NOTIFY'];
const ALLOW = BASE_ALLOW.join(', ');
/** Methods we know but do not serve (yet): 405 with Allow. Others: 501. */
const KNOWN_METHODS = new Set(['REGISTER', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH', 'PRACK', 'INFO', 'UPDATE']);
/** Methods the UA answers itself; handle() cannot take them over. */
const CORE_METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS']);

function dialogKey(callId: string, localTag: string, remoteTag: string): string {
	return `${callId}\n${localTag}\n${remoteTag}`;
}

function tagOf(value: string | undefined): string | undefined {
	if (!value) {
		return undefined;
	}
	try {
		const t = parseNameAddr(value).params['tag'];
		return t ?? undefined;
	} catch {
		return undefined;
	}
}

export class SipUserAgent extends TypedEmitter<UaEvents> {
	readonly #transport: TransportLayer;
	readonly #guard: IngressGuard;
	readonly #tx: TransactionLayer;
	readonly #dialogs = new Map<string, Dialog>();
	readonly #opts: UaOptions;
	readonly #log: Logger;
	readonly #handlers = new Map<string, RequestHandler>();
	/** Out-of-dialog server transactions by From tag, Call-ID and CSeq (§8.2.2.2). */
	readonly #pending = new Map<string, ServerTransaction>();
	#inviteAuth: InviteAuthenticator | undefined;
	#allow = ALLOW;
	#closed = false;

	static async create(opts: UaOptions): Promise<SipUserAgent> {
		const transport = await TransportLayer.listen({ host: opts.host, port: opts.port, udp: opts.udp, tcp: opts.tcp });
		return new SipUserAgent(opts, transport);
	}

	private constructor(opts: UaOptions, transport: TransportLayer) {
		super();
		this.#opts = opts;
		this.#log = opts.log ?? childLogger({ mod: 'sip' });
		this.#transport = transport;
		const clock = opts.clock ?? realClock;
		const limiter = opts.rateLimit && opts.rateLimit.perSecond > 0 ? new RateLimiter(opts.rateLimit.perSecond, opts.rateLimit.burst, clock, this.#log) : undefined;
		this.#guard = new IngressGuard(transport, limiter, clock, 128 * opts.t1Ms);
		this.#tx = new TransactionLayer(this.#guard, { t1: opts.t1Ms, clock, viaHost: opts.advertisedAddress });
		this.#tx.on('request', (req, tx) => this.#onRequest(req, tx));
		this.#tx.on('ack', (ack) => this.#onAck(ack));
	}

	get port(): number {
		return this.#transport.port;
	}

	get dialogCount(): number {
		return this.#dialogs.size;
	}

	get advertisedAddress(): string {
		return this.#opts.advertisedAddress;
	}

	/** @internal */
	get transactions(): TransactionLayer {
		return this.#tx;
	}

	/** @internal */
	get userAgentName(): string {
		return this.#opts.userAgent;
	}

	/** @internal The Allow header value: the core methods and every handled one. */
	get allow(): string {
		return this.#allow;
	}

	/**
	 * Our Contact for a dialog or request on `transport` (its listening port,
	 * `;transport=` when not UDP), with `user` as the user part when given.
	 */
	contactFor(user: string | undefined, transport: SipAddress['transport'] = 'udp'): string {
		const u = user ? `${user}@` : '';
		const port = this.#guard.portOf(transport) ?? this.port;
		const param = transport !== 'udp' ? `;transport=${transport}` : '';
		return `<sip:${u}${this.#opts.advertisedAddress}:${port}${param}>`;
	}

	/**
	 * Places a call (the UAC side): sends the INVITE to `opts.dest`, answers
	 * a 401/407 once with `opts.credentials`, ACKs every 2xx itself and
	 * reports progress, the answer (a confirmed Dialog) or the failure.
	 */
	invite(opts: InviteOptions): OutgoingInvite {
		if (this.#closed) {
			throw new InvalidStateError('user agent closed');
		}
		return new OutgoingInvite(this, opts);
	}

	/**
	 * @internal Sends the ACK for a 2xx to `invite` (§13.2.2.4): like the
	 * INVITE (Call-ID, From, CSeq number, credentials) with the response's To,
	 * to `target` (the dialog's remote target and route set; by default the
	 * INVITE's own Request-URI and Route).
	 */
	sendAckFor(invite: SipRequest, res: SipResponse, dest: SipAddress, target?: { uri: string; routes: string[] }): void {
		const h = new SipHeaders();
		for (const r of target ? target.routes : invite.headers.getAll('route')) {
			h.append('route', r);
		}
		h.append('from', invite.headers.get('from') ?? '');
		h.append('to', res.headers.get('to') ?? invite.headers.get('to') ?? '');
		h.append('call-id', invite.headers.get('call-id') ?? '');
		h.append('cseq', `${parseCSeq(invite.headers.get('cseq') ?? '1 INVITE').seq} ACK`);
		h.append('max-forwards', '70');
		for (const name of ['authorization', 'proxy-authorization']) {
			for (const v of invite.headers.getAll(name)) {
				h.append(name, v);
			}
		}
		const ack: SipRequest = { kind: 'request', method: 'ACK', uri: target?.uri ?? invite.uri, version: 'SIP/2.0', headers: h, body: Buffer.alloc(0) };
		try {
			this.#tx.sendAck(ack, dest);
		} catch (error) {
			this.#log.debug({ err: error }, 'ACK not sent');
		}
	}

	/** Requests dropped by the rate limit since start. */
	get rateLimited(): number {
		return this.#guard.dropped;
	}

	/**
	 * Serves out-of-dialog requests of `method` (e.g. REGISTER → the
	 * registrar) with a synchronous handler; a thrown error is answered 500.
	 * The UA's own methods (INVITE, ACK, BYE, CANCEL, OPTIONS) cannot be taken over.
	 */
	handle(method: string, handler: RequestHandler): void {
		const m = method.toUpperCase();
		if (CORE_METHODS.has(m)) {
			throw new TypeError(`${m} is handled by the UA itself`);
		}
		this.#handlers.set(m, handler);
		this.#allow = [...BASE_ALLOW, ...[...this.#handlers.keys()].filter((k) => !BASE_ALLOW.includes(k))].join(', ');
	}

	/** Sets (or clears) the hook asked before each new INVITE goes to the application. */
	setInviteAuthenticator(fn: InviteAuthenticator | undefined): void {
		this.#inviteAuth = fn;
	}

	#respond(tx: ServerTransaction, status: number, reason?: string, extra?: Array<[string, string]>): void {
		const opts: Parameters<typeof createResponse>[3] = { headers: [['server', this.#opts.userAgent], ...(extra ?? [])] };
		if (status > 100) {
			opts.toTag = generateTag();
		}
		tx.respond(createResponse(tx.req, status, reason, opts));
	}

	#onRequest(req: SipRequest, tx: ServerTransaction): void {
		try {
			if (req.version !== 'SIP/2.0') {
				this.#respond(tx, 505, 'Version Not Supported');
				return;
			}
			const maxForwards = req.headers.get('max-forwards');
			if (maxForwards !== undefined && Number(maxForwards.trim()) <= 0 && req.method !== 'OPTIONS') {
				this.#respond(tx, 483, 'Too Many Hops');
				return;
			}
			if (this.#looped(req)) {
				this.#log.warn({ method: req.method, source: req.source, callId: req.headers.get('call-id') }, 'request looped back to us (our own Via)');
				this.#respond(tx, 482, 'Loop Detected');
				return;
			}
			const toTag = tagOf(req.headers.get('to'));
			if (toTag !== undefined) {
				this.#inDialog(req, tx, toTag);
				return;
			}
			if (this.#merged(req, tx)) {
				this.#respond(tx, 482, 'Loop Detected (merged request)');
				return;
			}
			switch (req.method) {
				case 'INVITE': {
					if (this.#closed || this.listenerCount('invite') === 0) {
						this.#respond(tx, this.#closed ? 503 : 404);
						return;
					}
					let user: string | undefined;
					if (this.#inviteAuth) {
						const decision = this.#inviteAuth(req);
						if (!decision.ok) {
							this.#respond(tx, decision.reject.status, decision.reject.reason, decision.reject.headers);
							return;
						}
						user = decision.user?.extension;
					}
					const invite = new IncomingInvite(this, req, tx, user);
					this.safeEmit('invite', invite);
					return;
				}
				case 'OPTIONS': {
					this.#respond(tx, 200, 'OK', [
						['allow', this.#allow],
						['accept', 'application/sdp'],
					]);
					return;
				}
				case 'BYE': {
					this.#respond(tx, 481, 'Call/Transaction Does Not Exist');
					return;
				}
				default: {
					const handler = this.#handlers.get(req.method);
					if (handler) {
						const reply = handler(req);
						this.#respond(tx, reply.status, reply.reason, reply.headers);
					} else if (KNOWN_METHODS.has(req.method)) {
						this.#respond(tx, 405, 'Method Not Allowed', [['allow', this.#allow]]);
					} else {
						this.#respond(tx, 501, 'Not Implemented', [['allow', this.#allow]]);
					}
				}
			}
		} catch (error) {
			this.#log.error({ err: error, method: req.method }, 'request handler failed');
			try {
				this.#respond(tx, 500, 'Server Internal Error');
			} catch {
				// the transaction may already be answered
			}
		}
	}

	/** Whether any Via of the request is one we put on a request we sent (branch and sent-by). */
	#looped(req: SipRequest): boolean {
		if (!this.#guard.sentAny) {
			return false;
		}
		let vias: Via[];
		try {
			vias = getVias(req);
		} catch {
			// Lower Vias are other hops' business; an unreadable one is not ours.
			return false;
		}
		return vias.some((v) => this.#guard.sentVia(v));
	}

	/**
	 * §8.2.2.2: a request without a To tag whose From tag, Call-ID and CSeq
	 * equal those of a live server transaction it does not belong to (a
	 * forked copy that reached us twice) gets 482. Otherwise the transaction
	 * is remembered until it terminates.
	 */
	#merged(req: SipRequest, tx: ServerTransaction): boolean {
		const fromTag = tagOf(req.headers.get('from'));
		if (fromTag === undefined) {
			return false;
		}
		const key = `${fromTag}\n${req.headers.get('call-id') ?? ''}\n${(req.headers.get('cseq') ?? '').trim().replace(/\s+/, ' ')}`;
		const other = this.#pending.get(key);
		if (other && other !== tx && other.state !== 'terminated') {
			return true;
		}
		this.#pending.set(key, tx);
		tx.once('terminated', () => {
			if (this.#pending.get(key) === tx) {
				this.#pending.delete(key);
			}
		});
		return false;
	}

	#inDialog(req: SipRequest, tx: ServerTransaction, toTag: string): void {
		const callId = req.headers.get('call-id') ?? '';
		const fromTag = tagOf(req.headers.get('from')) ?? '';
		const dialog = this.#dialogs.get(dialogKey(callId, toTag, fromTag));
		if (!dialog) {
			this.#respond(tx, 481, 'Call/Transaction Does Not Exist');
			return;
		}
		dialog.handleRequest(req, tx);
	}

	#onAck(ack: SipRequest): void {
		const callId = ack.headers.get('call-id') ?? '';
		const toTag = tagOf(ack.headers.get('to')) ?? '';
		const fromTag = tagOf(ack.headers.get('from')) ?? '';
		this.#dialogs.get(dialogKey(callId, toTag, fromTag))?.handleAck(ack);
	}

	/** @internal */
	registerDialog(d: Dialog): void {
		this.#dialogs.set(dialogKey(d.callId, d.localTag, d.remoteTag), d);
		this.safeEmit('dialogcreated', d);
	}

	/** @internal */
	dialogDestroyed(d: Dialog, reason: string): void {
		this.#dialogs.delete(dialogKey(d.callId, d.localTag, d.remoteTag));
		this.safeEmit('dialogdestroyed', d, reason);
	}

	/** Stops listening. Dialogs should have been ended by their owners first. */
	async close(): Promise<void> {
		if (this.#closed) {
			return;
		}
		this.#closed = true;
		for (const d of [...this.#dialogs.values()]) {
			d.destroy('shutdown');
		}
		this.#tx.close();
		this.#guard.close();
		this.#pending.clear();
		await this.#transport.close();
	}
}

export type IncomingInviteEvents = {
	cancel: [];
};

/** A new INVITE awaiting the application's decision. */
export class IncomingInvite extends TypedEmitter<IncomingInviteEvents> {
	readonly req: SipRequest;
	readonly requestUri: SipUri;
	/** The configured user whose credentials the INVITE carried (407 round), if any. */
	readonly authenticatedUser: string | undefined;
	readonly #ua: SipUserAgent;
	readonly #tx: ServerTransaction;
	readonly #toTag = generateTag();
	#final = false;
	#cancelled = false;

	/** @internal */
	constructor(ua: SipUserAgent, req: SipRequest, tx: ServerTransaction, authenticatedUser?: string) {
		super();
		this.#ua = ua;
		this.req = req;
		this.#tx = tx;
		this.authenticatedUser = authenticatedUser;
		let uri: SipUri;
		try {
			uri = parseUri(req.uri);
		} catch {
			uri = { scheme: 'sip', host: '', params: {}, headers: {} };
		}
		this.requestUri = uri;
		tx.on('cancel', () => {
			if (this.#final) {
				return;
			}
			this.#cancelled = true;
			this.#send(487, 'Request Terminated');
			this.safeEmit('cancel');
		});
	}

	get cancelled(): boolean {
		return this.#cancelled;
	}

	get answered(): boolean {
		return this.#final;
	}

	#send(status: number, reason?: string, body?: string): void {
		const headers: Array<[string, string]> = [['server', this.#ua.userAgentName]];
		if (status >= 200 && status < 300) {
			headers.push(['contact', this.#contact()], ['allow', this.#ua.allow]);
		}
		const opts: Parameters<typeof createResponse>[3] = { toTag: this.#toTag, headers };
		if (body !== undefined) {
			opts.body = Buffer.from(body, 'utf8');
			opts.contentType = 'application/sdp';
		}
		if (status >= 200) {
			this.#final = true;
		}
		this.#tx.respond(createResponse(this.req, status, reason, opts));
	}

	#contact(): string {
		return this.#ua.contactFor(this.requestUri.user, this.req.source?.transport ?? 'udp');
	}

	progress(status = 180): void {
		if (!this.#final) {
			this.#send(status);
		}
	}

	reject(status: number, reason?: string): void {
		if (this.#final) {
			return;
		}
		this.#send(status, reason);
	}

	/** Sends 200 OK with `sdp` and returns the confirmed-on-ACK dialog. */
	accept(sdp: string): Dialog {
		if (this.#final) {
			throw new InvalidStateError(this.#cancelled ? 'INVITE was cancelled' : 'INVITE already answered');
		}
		const req = this.req;
		const contact = req.headers.get('contact');
		let target = req.uri;
		if (contact) {
			try {
				target = parseNameAddr(contact).uriText;
			} catch {
				// keep the Request-URI
			}
		}
		const dialog = new Dialog(this.#ua, {
			role: 'uas',
			callId: req.headers.get('call-id') ?? '',
			localTag: this.#toTag,
			remoteTag: tagOf(req.headers.get('from')) ?? '',
			localUri: `${req.headers.get('to') ?? ''};tag=${this.#toTag}`,
			remoteUri: req.headers.get('from') ?? '',
			remoteTarget: target,
			routeSet: recordRoutes(req),
			localSeq: Math.floor(Math.random() * 10_000) + 1,
			remoteSeq: parseCSeq(req.headers.get('cseq') ?? '0 INVITE').seq,
			// Requests go back along the flow the INVITE came on (NAT, TCP).
			peer: req.source ?? { transport: 'udp', address: '127.0.0.1', port: 5060 },
			localSdp: sdp,
			...(req.body.length > 0 ? { remoteSdp: req.body.toString('utf8') } : {}),
		});
		this.#ua.registerDialog(dialog);
		this.#tx.on('acktimeout', () => {
			void dialog.bye('ack-timeout');
		});
		this.#send(200, 'OK', sdp);
		return dialog;
	}
}

export interface InviteOptions {
	/** Request-URI. */
	uri: string;
	/** The next hop: a registered contact's source, a trunk, a proxy. */
	dest: SipAddress;
	/** From header value without a tag, e.g. `"Alice" <sip:2001@pbx>`. */
	from: string;
	/** To header value (no tag). */
	to: string;
	/** SDP offer; without it the 2xx carries the offer (not supported by callers here yet). */
	sdp?: string;
	headers?: Array<[string, string]>;
	/** For a 401/407 from the far end (trunks), answered once. */
	credentials?: Credentials;
	/** User part of our Contact. */
	contactUser?: string;
	callId?: string;
}

export type OutgoingInviteEvents = {
	/** 1xx other than 100 (180, 183 with or without SDP). */
	progress: [SipResponse];
	answered: [Dialog, SipResponse];
	/** Any end without a dialog: the final status, 408 on timeout, 503 when unsendable, 487 when cancelled. */
	failed: [status: number, reason: string, res: SipResponse | undefined];
};

export type OutgoingInviteResult = { ok: true; dialog: Dialog; res: SipResponse } | { ok: false; status: number; reason: string; res: SipResponse | undefined };

/** An INVITE we sent, until it is answered, fails or is cancelled. */
export class OutgoingInvite extends TypedEmitter<OutgoingInviteEvents> {
	readonly callId: string;
	readonly localTag = generateTag();
	/** Settles once with the outcome (the events carry the same). */
	readonly result: Promise<OutgoingInviteResult>;
	readonly #ua: SipUserAgent;
	readonly #opts: InviteOptions;
	#req: SipRequest;
	#tx: ClientTransaction | undefined;
	#seq = Math.floor(Math.random() * 10_000) + 1;
	#authTried = false;
	#cancelled = false;
	#settled = false;
	#dialog: Dialog | undefined;
	#resolve!: (r: OutgoingInviteResult) => void;

	/** @internal Use ua.invite(). */
	constructor(ua: SipUserAgent, opts: InviteOptions) {
		super();
		this.#ua = ua;
		this.#opts = opts;
		this.callId = opts.callId ?? generateCallId(ua.advertisedAddress);
		this.result = new Promise((resolve) => {
			this.#resolve = resolve;
		});
		this.#req = this.#build();
		// Listeners are attached by the caller after this returns.
		queueMicrotask(() => this.#start());
	}

	get cancelled(): boolean {
		return this.#cancelled;
	}

	get settled(): boolean {
		return this.#settled;
	}

	/** The INVITE as last sent. */
	get request(): SipRequest {
		return this.#req;
	}

	#build(auth?: [string, string]): SipRequest {
		const o = this.#opts;
		const h = new SipHeaders();
		h.append('max-forwards', '70');
		h.append('from', `${o.from};tag=${this.localTag}`);
		h.append('to', o.to);
		h.append('call-id', this.callId);
		h.append('cseq', `${this.#seq} INVITE`);
		h.append('contact', this.#ua.contactFor(o.contactUser, o.dest.transport));
		h.append('allow', this.#ua.allow);
		h.append('user-agent', this.#ua.userAgentName);
		for (const [k, v] of o.headers ?? []) {
			h.append(k, v);
		}
		if (auth) {
			h.append(auth[0], auth[1]);
		}
		let body = Buffer.alloc(0);
		if (o.sdp !== undefined) {
			body = Buffer.from(o.sdp, 'utf8');
			h.append('content-type', 'application/sdp');
		}
		return { kind: 'request', method: 'INVITE', uri: o.uri, version: 'SIP/2.0', headers: h, body };
	}

	#start(): void {
		if (this.#settled) {
			return;
		}
		if (this.#cancelled) {
			this.#fail(487, 'Request Terminated', undefined);
			return;
		}
		const req = this.#req;
		try {
			this.#tx = this.#ua.transactions.sendRequest(req, this.#opts.dest, {
				onProvisional: (res) => {
					if (res.status > 100 && !this.#settled) {
						this.safeEmit('progress', res);
					}
				},
				onFinal: (res) => this.#onFinal(req, res),
				on2xxRetransmit: (res) => this.#on2xxAgain(req, res),
				onTimeout: () => this.#fail(this.#cancelled ? 487 : 408, this.#cancelled ? 'Request Terminated' : 'Request Timeout', undefined),
				onTransportError: () => this.#fail(503, 'Service Unavailable', undefined),
			});
		} catch {
			this.#fail(503, 'Service Unavailable', undefined);
		}
	}

	#onFinal(req: SipRequest, res: SipResponse): void {
		if (res.status >= 200 && res.status < 300) {
			const dialog = this.#makeDialog(req, res);
			this.#ua.sendAckFor(req, res, this.#opts.dest, { uri: dialog.remoteTarget, routes: dialog.routeSet });
			this.#ua.registerDialog(dialog);
			if (this.#cancelled || this.#settled) {
				// Answered while our CANCEL was on its way: end it at once.
				void dialog.bye('cancelled');
				this.#fail(487, 'Request Terminated', res);
				return;
			}
			this.#dialog = dialog;
			this.#settled = true;
			this.safeEmit('answered', dialog, res);
			this.#resolve({ ok: true, dialog, res });
			return;
		}
		if ((res.status === 401 || res.status === 407) && this.#opts.credentials && !this.#authTried && !this.#cancelled) {
			this.#authTried = true;
			const challenge = selectChallenge(res.headers.getAll(res.status === 401 ? 'www-authenticate' : 'proxy-authenticate'));
			if (challenge !== undefined) {
				try {
					const { username, password } = this.#opts.credentials;
					const value = buildAuthorization({ challenge, username, password, method: 'INVITE', uri: this.#opts.uri, nc: 1 });
					this.#seq++;
					this.#req = this.#build([res.status === 401 ? 'authorization' : 'proxy-authorization', value]);
					this.#start();
					return;
				} catch {
					// fall through: report the challenge as the failure
				}
			}
		}
		this.#fail(res.status, res.reason, res);
	}

	/** A 2xx again: the same one (our ACK was lost) or another fork's, which we ACK and end. */
	#on2xxAgain(req: SipRequest, res: SipResponse): void {
		const tag = tagOf(res.headers.get('to'));
		if (this.#dialog && tag === this.#dialog.remoteTag) {
			this.#ua.sendAckFor(req, res, this.#opts.dest, { uri: this.#dialog.remoteTarget, routes: this.#dialog.routeSet });
			return;
		}
		const other = this.#makeDialog(req, res);
		this.#ua.sendAckFor(req, res, this.#opts.dest, { uri: other.remoteTarget, routes: other.routeSet });
		this.#ua.registerDialog(other);
		void other.bye('forked-2xx');
	}

	#makeDialog(req: SipRequest, res: SipResponse): Dialog {
		const contact = res.headers.get('contact');
		let target = req.uri;
		if (contact) {
			try {
				target = parseNameAddr(contact).uriText;
			} catch {
				// keep the Request-URI
			}
		}
		return new Dialog(this.#ua, {
			role: 'uac',
			callId: this.callId,
			localTag: this.localTag,
			remoteTag: tagOf(res.headers.get('to')) ?? '',
			localUri: req.headers.get('from') ?? '',
			remoteUri: res.headers.get('to') ?? '',
			remoteTarget: target,
			routeSet: recordRoutes(res).reverse(),
			localSeq: this.#seq,
			remoteSeq: undefined,
			peer: this.#opts.dest,
			localSdp: this.#opts.sdp ?? '',
			...(res.body.length > 0 ? { remoteSdp: res.body.toString('utf8') } : {}),
			...(this.#opts.credentials ? { credentials: this.#opts.credentials } : {}),
		});
	}

	#fail(status: number, reason: string, res: SipResponse | undefined): void {
		if (this.#settled) {
			return;
		}
		this.#settled = true;
		this.safeEmit('failed', status, reason, res);
		this.#resolve({ ok: false, status, reason, res });
	}

	/**
	 * Cancels the call (§9.1): the CANCEL goes out once the far end has sent
	 * a provisional response; the INVITE then ends with 487 (failed). A 2xx
	 * that crosses the CANCEL is ACKed and ended with BYE.
	 */
	cancel(): void {
		if (this.#settled || this.#cancelled) {
			return;
		}
		this.#cancelled = true;
		if (this.#tx && !this.#tx.cancel()) {
			// Too late for CANCEL (a final response is in); onFinal handles a 2xx.
			return;
		}
	}
}

// ---------------------------------------------------------------------------
// Ingress: rate limit and the record of our own Vias

type IngressEvents = {
	message: [SipMessage];
};

/** Sent Vias remembered for loop detection, at most. */
const MAX_SENT_VIAS = 50_000;

/**
 * Sits between the transport and the transaction layer (it is the layer's
 * TransactionTransport): drops requests over the per-source rate limit before
 * a transaction exists for them, and remembers the branch and sent-by of
 * every request we send, so one that comes back to us is recognised (482).
 */
class IngressGuard extends TypedEmitter<IngressEvents> implements TransactionTransport {
	readonly #inner: TransportLayer;
	readonly #limiter: RateLimiter | undefined;
	readonly #clock: Clock;
	readonly #ttl: number;
	/** `branch|host:port` → when sent; insertion-ordered, oldest first. */
	readonly #sent = new Map<string, number>();
	readonly #onMessage = (msg: SipMessage): void => {
		if (msg.kind === 'request' && this.#limiter && msg.source && !this.#limiter.allow(msg.source.address)) {
			return;
		}
		this.safeEmit('message', msg);
	};

	constructor(inner: TransportLayer, limiter: RateLimiter | undefined, clock: Clock, ttlMs: number) {
		super();
		this.#inner = inner;
		this.#limiter = limiter;
		this.#clock = clock;
		this.#ttl = ttlMs;
		inner.on('message', this.#onMessage);
	}

	get host(): string {
		return this.#inner.host;
	}

	get port(): number {
		return this.#inner.port;
	}

	/** The local port of one transport, as the transport layer tells it. */
	portOf(transport: SipAddress['transport']): number | undefined {
		return this.#inner.portOf(transport);
	}

	get dropped(): number {
		return this.#limiter?.dropped ?? 0;
	}

	get sentAny(): boolean {
		return this.#sent.size > 0;
	}

	send(msg: SipMessage, dest: SipAddress, onError?: (err: Error) => void): void {
		if (msg.kind === 'request') {
			this.#remember(msg);
		}
		this.#inner.send(msg, dest, onError);
	}

	/** Whether we sent a request carrying this Via (same branch and sent-by) lately. */
	sentVia(via: Via): boolean {
		const branch = via.params['branch'];
		if (!branch) {
			return false;
		}
		const at = this.#sent.get(viaKey(branch, via));
		return at !== undefined && this.#clock.now() - at <= this.#ttl;
	}

	close(): void {
		this.#inner.off('message', this.#onMessage);
		this.#limiter?.close();
		this.#sent.clear();
	}

	#remember(req: SipRequest): void {
		let via: Via | undefined;
		try {
			via = topVia(req);
		} catch {
			return;
		}
		const branch = via?.params['branch'];
		if (!via || !branch) {
			return;
		}
		const now = this.#clock.now();
		const key = viaKey(branch, via);
		this.#sent.delete(key);
		this.#sent.set(key, now);
		for (const [k, at] of this.#sent) {
			if (now - at <= this.#ttl && this.#sent.size <= MAX_SENT_VIAS) {
				break;
			}
			this.#sent.delete(k);
		}
	}
}

function viaKey(branch: string, via: Via): string {
	return `${branch}|${via.host.toLowerCase()}:${via.port ?? defaultPort(via.transport)}`;
}

interface Bucket {
	tokens: number;
	last: number;
	/** Dropped since the last log line about this source. */
	dropped: number;
	loggedAt: number;
}

/** One warn line per source at most this often. */
const RATE_LOG_INTERVAL_MS = 10_000;
/** Sources tracked at most; beyond that, idle ones are forgotten first. */
const MAX_BUCKETS = 100_000;

/**
 * A token bucket per source IP address: `burst` requests at once, refilled
 * at `perSecond`. Drops are counted and logged once per source per 10 s
 * (with the count), and once more by the sweep for the tail of a flood.
 */
class RateLimiter {
	readonly #rate: number;
	readonly #burst: number;
	readonly #clock: Clock;
	readonly #log: Logger;
	readonly #buckets = new Map<string, Bucket>();
	#timer: TimerHandle | undefined;
	#closed = false;
	dropped = 0;

	constructor(perSecond: number, burst: number, clock: Clock, log: Logger) {
		this.#rate = perSecond / 1000;
		this.#burst = Math.max(1, burst);
		this.#clock = clock;
		this.#log = log;
	}

	allow(address: string): boolean {
		const now = this.#clock.now();
		let b = this.#buckets.get(address);
		if (!b) {
			if (this.#buckets.size >= MAX_BUCKETS) {
				this.#sweep(now);
				if (this.#buckets.size >= MAX_BUCKETS) {
					// Every tracked source is busy: a new one gets its burst untracked.
					return true;
				}
			}
			b = { tokens: this.#burst, last: now, dropped: 0, loggedAt: -Infinity };
			this.#buckets.set(address, b);
			this.#arm();
		} else {
			b.tokens = Math.min(this.#burst, b.tokens + (now - b.last) * this.#rate);
			b.last = now;
		}
		if (b.tokens >= 1) {
			b.tokens -= 1;
			return true;
		}
		this.dropped++;
		b.dropped++;
		if (now - b.loggedAt >= RATE_LOG_INTERVAL_MS) {
			this.#report(address, b, now);
		}
		return false;
	}

	/** Reports drops not yet logged, then forgets everything. */
	close(): void {
		this.#closed = true;
		this.#timer?.cancel();
		this.#timer = undefined;
		const now = this.#clock.now();
		for (const [address, b] of this.#buckets) {
			if (b.dropped > 0) {
				this.#report(address, b, now);
			}
		}
		this.#buckets.clear();
	}

	#report(address: string, b: Bucket, now: number): void {
		this.#log.warn(
			{ source: address, dropped: b.dropped, perSecond: this.#rate * 1000, burst: this.#burst },
			`SIP rate limit: dropping requests from ${address} (${b.dropped} dropped since the last report)`,
		);
		b.dropped = 0;
		b.loggedAt = now;
	}

	#arm(): void {
		if (this.#timer || this.#closed) {
			return;
		}
		this.#timer = this.#clock.setTimeout(() => {
			this.#timer = undefined;
			this.#sweep(this.#clock.now());
			if (this.#buckets.size > 0) {
				this.#arm();
			}
		}, RATE_LOG_INTERVAL_MS);
	}

	/** Logs pending drop counts that are due and forgets sources whose bucket has refilled. */
	#sweep(now: number): void {
		const refill = this.#burst / this.#rate;
		for (const [address, b] of this.#buckets) {
			if (b.dropped > 0 && now - b.loggedAt >= RATE_LOG_INTERVAL_MS) {
				this.#report(address, b, now);
			}
			if (b.dropped === 0 && now - b.last >= refill) {
				this.#buckets.delete(address);
			}
		}
	}
}
