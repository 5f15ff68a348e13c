/**
 * Dialogs (RFC 3261 §12) for both roles, and the requests sent and received
 * inside them: re-INVITE/UPDATE (offers the application may answer, 491 on
 * glare), INFO, REFER, NOTIFY, OPTIONS and BYE. Routing is loose routing
 * (§12.2.1.1, RFC 3261 §16.12): Request-URI = remote target, Route = the
 * route set; a strict router first in the set gets the old treatment.
 *
 *   UAS: created by our 2xx to an INVITE      local tag = To tag we chose
 *        route set = Record-Route as received  remote target = INVITE Contact
 *   UAC: created by a 2xx to our INVITE        local tag = our From tag
 *        route set = Record-Route reversed     remote target = 2xx Contact
 *
 * Requests go to the flow the dialog was set up on (the INVITE's source, or
 * where we sent ours): behind a proxy or NAT that is the only address known
 * to work, and it is the first hop of any route set in practice.
 */
import { TypedEmitter } from '../common/events.js';
import { InvalidStateError } from '../common/errors.js';
import { childLogger } from '../common/logger.js';
import { buildAuthorization, selectChallenge } from './auth/digest.js';
import { createResponse, parseCSeq, parseNameAddr, splitHeaderList, SipHeaders, type SipAddress, type SipRequest, type SipResponse } from './message/index.js';
import type { ServerTransaction } from './transaction/index.js';
import type { SipUserAgent } from './ua.js';

const log = childLogger({ mod: 'sip.dialog' });

export type DialogRole = 'uas' | 'uac';

/** Digest credentials for requests a peer challenges (trunks). */
export interface Credentials {
	username: string;
	password: string;
}

export interface DialogInit {
	role: DialogRole;
	callId: string;
	localTag: string;
	remoteTag: string;
	/** From/To header values, each with its tag. */
	localUri: string;
	remoteUri: string;
	remoteTarget: string;
	/** In the order requests carry it (already reversed for a UAC). */
	routeSet: string[];
	/** CSeq number of the last request we sent (the INVITE for a UAC). */
	localSeq: number;
	/** CSeq number of the last request received, undefined for a UAC until one arrives. */
	remoteSeq: number | undefined;
	peer: SipAddress;
	localSdp: string;
	remoteSdp?: string;
	credentials?: Credentials;
}

/** An offer (or offerless re-INVITE) the far end sent in the dialog; answer it exactly once. */
export interface SessionModify {
	method: 'INVITE' | 'UPDATE';
	req: SipRequest;
	/** The SDP offer; undefined for an offerless re-INVITE (our 200 then carries an offer and the ACK the answer). */
	offer: string | undefined;
	/** 200 with this SDP (our new local description). */
	accept(sdp: string): void;
	reject(status: number, reason?: string): void;
}

/** A REFER received in the dialog (RFC 3515); accept() answers 202, reject() a failure. */
export interface ReferRequest {
	req: SipRequest;
	/** The Refer-To value as received. */
	referTo: string;
	accept(): void;
	reject(status: number, reason?: string): void;
}

export type DialogEvents = {
	/** The ACK to our 2xx (carries the SDP answer when the INVITE had none); one per INVITE. */
	ack: [SipRequest];
	/** A re-INVITE or UPDATE with (or without) an offer. Without listeners we keep our SDP. */
	modify: [SessionModify];
	/** INFO (already answered 200). */
	info: [SipRequest];
	/** REFER; without listeners it is declined (603). */
	refer: [ReferRequest];
	/** NOTIFY (already answered 200). */
	notify: [SipRequest];
	/** OPTIONS and other requests answered by the dialog (kept for older listeners). */
	request: [SipRequest];
	/** The remote target changed (a target-refresh request or response). */
	refresh: [];
	destroy: [reason: string];
};

export interface DialogRequestOptions {
	body?: string;
	contentType?: string;
	headers?: Array<[string, string]>;
}

export class Dialog extends TypedEmitter<DialogEvents> {
	readonly role: DialogRole;
	readonly callId: string;
	readonly localTag: string;
	readonly remoteTag: string;
	/** Our identity (From for a UAC, To for a UAS, with our tag) and theirs. */
	readonly localUri: string;
	readonly remoteUri: string;
	readonly routeSet: string[];
	readonly #ua: SipUserAgent;
	readonly #peer: SipAddress;
	readonly #credentials: Credentials | undefined;
	#remoteTarget: string;
	#localSeq: number;
	#remoteSeq: number | undefined;
	#localSdp: string;
	#remoteSdp: string | undefined;
	/** CSeq numbers of INVITEs (ours answered with 2xx) whose ACK arrived or was sent. */
	#ackedSeq = -1;
	#acked = false;
	#destroyed = false;
	/** An INVITE of ours is in progress (glare: theirs gets 491). */
	#inviteOut = false;
	/** An INVITE or UPDATE of theirs is being answered (ours waits, theirs gets 500). */
	#offerIn = false;

	/** @internal Created by the UA (IncomingInvite.accept, OutgoingInvite). */
	constructor(ua: SipUserAgent, init: DialogInit) {
		super();
		this.#ua = ua;
		this.role = init.role;
		this.callId = init.callId;
		this.localTag = init.localTag;
		this.remoteTag = init.remoteTag;
		this.localUri = init.localUri;
		this.remoteUri = init.remoteUri;
		this.#remoteTarget = init.remoteTarget;
		this.routeSet = init.routeSet;
		this.#localSeq = init.localSeq;
		this.#remoteSeq = init.remoteSeq;
		this.#peer = init.peer;
		this.#localSdp = init.localSdp;
		this.#remoteSdp = init.remoteSdp;
		this.#credentials = init.credentials;
		if (init.role === 'uac') {
			// The UA core sent the ACK for the 2xx that created us.
			this.#acked = true;
			this.#ackedSeq = init.localSeq;
		}
	}

	get destroyed(): boolean {
		return this.#destroyed;
	}

	/** A UAS dialog is confirmed by the ACK; a UAC one by its 2xx. */
	get acked(): boolean {
		return this.#acked;
	}

	get remoteTarget(): string {
		return this.#remoteTarget;
	}

	/** The flow requests of this dialog are sent on. */
	get peer(): SipAddress {
		return this.#peer;
	}

	get localSdp(): string {
		return this.#localSdp;
	}

	/** The far end's last SDP (offer or answer), when known. */
	get remoteSdp(): string | undefined {
		return this.#remoteSdp;
	}

	/** @internal */
	handleAck(ack: SipRequest): void {
		if (this.#destroyed) {
			return;
		}
		const seq = parseCSeq(ack.headers.get('cseq') ?? '0 ACK').seq;
		if (seq === this.#ackedSeq && this.#acked) {
			return;
		}
		this.#ackedSeq = seq;
		this.#acked = true;
		if (ack.body.length > 0) {
			this.#remoteSdp = ack.body.toString('utf8');
		}
		this.safeEmit('ack', ack);
	}

	#reply(req: SipRequest, tx: ServerTransaction, status: number, reason?: string, body?: string, extra?: Array<[string, string]>): void {
		const headers: Array<[string, string]> = [['server', this.#ua.userAgentName], ...(extra ?? [])];
		const opts: Parameters<typeof createResponse>[3] = { headers };
		if (status >= 200 && status < 300 && (req.method === 'INVITE' || req.method === 'UPDATE')) {
			headers.push(['contact', this.#ua.contactFor(undefined, this.#peer.transport)], ['allow', this.#ua.allow]);
		}
		if (body !== undefined) {
			opts.body = Buffer.from(body, 'utf8');
			opts.contentType = 'application/sdp';
		}
		tx.respond(createResponse(req, status, reason, opts));
	}

	/** @internal An in-dialog request (not ACK or CANCEL) matched this dialog. */
	handleRequest(req: SipRequest, tx: ServerTransaction): void {
		const seq = parseCSeq(req.headers.get('cseq') ?? '').seq;
		if (this.#remoteSeq !== undefined && seq <= this.#remoteSeq) {
			// §12.2.2: lower (or, for a new transaction, equal) CSeq is out of order.
			this.#reply(req, tx, 500, 'Server Internal Error (CSeq out of order)');
			return;
		}
		this.#remoteSeq = seq;
		switch (req.method) {
			case 'BYE': {
				this.#reply(req, tx, 200, 'OK');
				this.destroy('bye');
				return;
			}
			case 'INVITE':
			case 'UPDATE': {
				this.#onModify(req, tx);
				return;
			}
			case 'INFO': {
				this.#reply(req, tx, 200, 'OK');
				this.safeEmit('info', req);
				this.safeEmit('request', req);
				return;
			}
			case 'NOTIFY': {
				this.#reply(req, tx, 200, 'OK');
				this.safeEmit('notify', req);
				return;
			}
			case 'REFER': {
				this.#onRefer(req, tx);
				return;
			}
			case 'OPTIONS': {
				this.#reply(req, tx, 200, 'OK', undefined, [
					['allow', this.#ua.allow],
					['accept', 'application/sdp'],
				]);
				this.safeEmit('request', req);
				return;
			}
			default: {
				this.#reply(req, tx, 501, 'Not Implemented', undefined, [['allow', this.#ua.allow]]);
			}
		}
	}

	#onModify(req: SipRequest, tx: ServerTransaction): void {
		const method = req.method as 'INVITE' | 'UPDATE';
		if (this.#inviteOut && method === 'INVITE') {
			// §14.2: glare with our own re-INVITE.
			this.#reply(req, tx, 491, 'Request Pending');
			return;
		}
		if (this.#offerIn) {
			this.#reply(req, tx, 500, 'Server Internal Error', undefined, [['retry-after', String(1 + Math.floor(Math.random() * 10))]]);
			return;
		}
		this.#targetRefresh(req.headers.get('contact'));
		const offer = req.body.length > 0 ? req.body.toString('utf8') : undefined;
		if (offer !== undefined) {
			this.#remoteSdp = offer;
		}
		if (method === 'UPDATE' && offer === undefined) {
			// A session refresh without SDP: nothing to negotiate.
			this.#reply(req, tx, 200, 'OK');
			return;
		}
		let done = false;
		this.#offerIn = true;
		const finish = (): void => {
			done = true;
			this.#offerIn = false;
		};
		const modify: SessionModify = {
			method,
			req,
			offer,
			accept: (sdp) => {
				if (done || this.#destroyed) {
					return;
				}
				finish();
				this.#localSdp = sdp;
				this.#reply(req, tx, 200, 'OK', sdp);
			},
			reject: (status, reason) => {
				if (done || this.#destroyed) {
					return;
				}
				finish();
				this.#reply(req, tx, status, reason);
			},
		};
		if (this.listenerCount('modify') === 0) {
			// Session refresh or re-offer nobody wants to act on: keep our side.
			modify.accept(this.#localSdp);
			return;
		}
		this.safeEmit('modify', modify);
	}

	#onRefer(req: SipRequest, tx: ServerTransaction): void {
		const referTo = req.headers.get('refer-to');
		if (referTo === undefined) {
			this.#reply(req, tx, 400, 'Bad Request (missing Refer-To)');
			return;
		}
		if (this.listenerCount('refer') === 0) {
			this.#reply(req, tx, 603, 'Declined');
			return;
		}
		let done = false;
		this.safeEmit('refer', {
			req,
			referTo,
			accept: () => {
				if (!done) {
					done = true;
					this.#reply(req, tx, 202, 'Accepted');
				}
			},
			reject: (status, reason) => {
				if (!done) {
					done = true;
					this.#reply(req, tx, status, reason);
				}
			},
		});
	}

	#targetRefresh(contact: string | undefined): void {
		if (!contact) {
			return;
		}
		try {
			const uri = parseNameAddr(splitHeaderList(contact)[0] ?? contact).uriText;
			if (uri !== this.#remoteTarget) {
				this.#remoteTarget = uri;
				this.safeEmit('refresh');
			}
		} catch {
			// keep the old target
		}
	}

	/** Builds an in-dialog request with the next CSeq (§12.2.1.1). */
	#build(method: string, opts: DialogRequestOptions, seq?: number): SipRequest {
		const headers = new SipHeaders();
		let uri = this.#remoteTarget;
		let routes = this.routeSet;
		const first = routes[0];
		if (first !== undefined && !isLooseRoute(first)) {
			// Strict router: its URI becomes the Request-URI, our target the last Route.
			uri = routeUri(first);
			routes = [...routes.slice(1), `<${this.#remoteTarget}>`];
		}
		for (const r of routes) {
			headers.append('route', r);
		}
		headers.append('from', this.localUri);
		headers.append('to', this.remoteUri);
		headers.append('call-id', this.callId);
		headers.append('cseq', `${seq ?? ++this.#localSeq} ${method}`);
		headers.append('max-forwards', '70');
		if (method === 'INVITE' || method === 'UPDATE' || method === 'REFER' || method === 'NOTIFY' || method === 'SUBSCRIBE') {
			headers.append('contact', this.#ua.contactFor(undefined, this.#peer.transport));
		}
		headers.append('user-agent', this.#ua.userAgentName);
		for (const [k, v] of opts.headers ?? []) {
			headers.append(k, v);
		}
		const body = opts.body !== undefined ? Buffer.from(opts.body, 'utf8') : Buffer.alloc(0);
		if (body.length > 0) {
			headers.append('content-type', opts.contentType ?? 'application/sdp');
		}
		return { kind: 'request', method, uri, version: 'SIP/2.0', headers, body };
	}

	/**
	 * Sends an in-dialog request and resolves with its final response
	 * (timeouts resolve as a 408, transport errors as a 503, like §8.1.3.1).
	 * A re-INVITE's 2xx is ACKed here and its SDP becomes remoteSdp (and
	 * `body` our localSdp). A 401/407 is retried once with the dialog's
	 * credentials. A re-INVITE while another offer is in progress rejects.
	 */
	request(method: string, opts: DialogRequestOptions = {}): Promise<SipResponse> {
		const m = method.toUpperCase();
		if (this.#destroyed) {
			return Promise.reject(new InvalidStateError('dialog ended'));
		}
		if (m === 'ACK' || m === 'CANCEL' || m === 'BYE') {
			return Promise.reject(new TypeError(`${m} is not sent with request()`));
		}
		if (m === 'INVITE' && (this.#inviteOut || this.#offerIn)) {
			return Promise.reject(new InvalidStateError('an offer is already in progress'));
		}
		if (m === 'INVITE') {
			this.#inviteOut = true;
		}
		return this.#send(this.#build(m, opts), true).then(
			(res) => {
				if (m === 'INVITE') {
					this.#inviteOut = false;
					if (res.status >= 200 && res.status < 300) {
						if (opts.body !== undefined) {
							this.#localSdp = opts.body;
						}
						if (res.body.length > 0) {
							this.#remoteSdp = res.body.toString('utf8');
						}
						this.#targetRefresh(res.headers.get('contact'));
					}
				}
				return res;
			},
			(error: unknown) => {
				if (m === 'INVITE') {
					this.#inviteOut = false;
				}
				throw error;
			},
		);
	}

	#send(req: SipRequest, mayAuth: boolean): Promise<SipResponse> {
		return new Promise<SipResponse>((resolve) => {
			const synthetic = (status: number, reason: string): SipResponse => ({ kind: 'response', status, reason, version: 'SIP/2.0', headers: new SipHeaders(), body: Buffer.alloc(0) });
			const onFinal = (res: SipResponse): void => {
				if (req.method === 'INVITE' && res.status >= 200 && res.status < 300) {
					this.#ua.sendAckFor(req, res, this.#peer);
				}
				if ((res.status === 401 || res.status === 407) && mayAuth && this.#credentials) {
					const retry = this.#withCredentials(req, res);
					if (retry) {
						this.#send(retry, false).then(resolve, () => resolve(synthetic(500, 'Server Internal Error')));
						return;
					}
				}
				resolve(res);
			};
			try {
				this.#ua.transactions.sendRequest(req, this.#peer, {
					onFinal,
					on2xxRetransmit: (res) => {
						if (req.method === 'INVITE') {
							this.#ua.sendAckFor(req, res, this.#peer);
						}
					},
					onTimeout: () => resolve(synthetic(408, 'Request Timeout')),
					onTransportError: () => resolve(synthetic(503, 'Service Unavailable')),
				});
			} catch (error) {
				log.debug({ err: error, method: req.method }, 'in-dialog request not sent');
				resolve(synthetic(503, 'Service Unavailable'));
			}
		});
	}

	/** The same request with a new CSeq and an answer to the challenge in `res`, or undefined. */
	#withCredentials(req: SipRequest, res: SipResponse): SipRequest | undefined {
		const creds = this.#credentials;
		const header = res.status === 401 ? 'www-authenticate' : 'proxy-authenticate';
		const challenge = selectChallenge(res.headers.getAll(header));
		if (!creds || challenge === undefined) {
			return undefined;
		}
		try {
			const auth = buildAuthorization({ challenge, username: creds.username, password: creds.password, method: req.method, uri: req.uri, nc: 1 });
			const headers = req.headers.clone();
			headers.remove('via');
			headers.remove('authorization');
			headers.remove('proxy-authorization');
			headers.set('cseq', `${++this.#localSeq} ${req.method}`);
			headers.append(res.status === 401 ? 'authorization' : 'proxy-authorization', auth);
			return { ...req, headers };
		} catch (error) {
			log.warn({ err: error }, 'cannot answer the challenge');
			return undefined;
		}
	}

	/** Sends BYE (once) and destroys the dialog; resolves when answered or timed out. */
	bye(reason = 'local'): Promise<void> {
		if (this.#destroyed) {
			return Promise.resolve();
		}
		const req = this.#build('BYE', {});
		this.destroy(reason);
		return this.#send(req, true).then(() => undefined);
	}

	/** Forgets the dialog without signalling (after BYE, or on shutdown). */
	destroy(reason: string): void {
		if (this.#destroyed) {
			return;
		}
		this.#destroyed = true;
		this.#ua.dialogDestroyed(this, reason);
		this.safeEmit('destroy', reason);
	}
}

function isLooseRoute(route: string): boolean {
	try {
		return 'lr' in parseNameAddr(route).uri.params;
	} catch {
		return true;
	}
}

function routeUri(route: string): string {
	try {
		return parseNameAddr(route).uriText;
	} catch {
		return route.replace(/^<|>$/g, '');
	}
}

/** Record-Route values split into single entries, in received order. */
export function recordRoutes(msg: SipRequest | SipResponse): string[] {
	return msg.headers.getAll('record-route').flatMap((v) => splitHeaderList(v));
}
