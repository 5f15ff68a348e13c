import { TypedEmitter } from '../common/events.js';
import { InvalidStateError } from '../common/errors.js';
import { childLogger, type Logger } from '../common/logger.js';
import { realClock, type Clock } from '../common/time.js';
import {
	createResponse,
	generateTag,
	parseCSeq,
	parseNameAddr,
	parseUri,
	SipHeaders,
	type SipAddress,
	type SipRequest,
	type SipResponse,
	type SipUri,
} from './message/index.js';
import { TransportLayer } from './transport/index.js';
import { TransactionLayer, type ServerTransaction } from './transaction/index.js';

/**
 * The user-agent core (RFC 3261 §8, §12-15) over the transaction layer: routes
 * new INVITEs to the application, keeps dialogs, answers in-dialog requests,
 * and gives every request an answer (404/405/481/501 defaults, drachtio's
 * "safe defaults" rule).
 */
export interface UaOptions {
	host: string;
	port: number;
	advertisedAddress: string;
	udp: boolean;
	tcp: boolean;
	t1Ms: number;
	userAgent: string;
	clock?: Clock;
	log?: Logger;
}

export type UaEvents = {
	invite: [IncomingInvite];
	dialogcreated: [Dialog];
	dialogdestroyed: [Dialog, string];
};

const ALLOW = 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE';
/** Methods we know but do not serve (yet): 405 with Allow. Others: 501. */
const KNOWN_METHODS = new Set(['REGISTER', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH', 'PRACK', 'INFO', 'UPDATE']);

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
	readonly #tx: TransactionLayer;
	readonly #dialogs = new Map<string, Dialog>();
	readonly #opts: UaOptions;
	readonly #log: Logger;
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
		this.#tx = new TransactionLayer(transport, { t1: opts.t1Ms, clock: opts.clock ?? realClock, viaHost: opts.advertisedAddress });
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
			const toTag = tagOf(req.headers.get('to'));
			if (toTag !== undefined) {
				this.#inDialog(req, tx, toTag);
				return;
			}
			switch (req.method) {
				case 'INVITE': {
					if (this.#closed || this.listenerCount('invite') === 0) {
						this.#respond(tx, this.#closed ? 503 : 404);
						return;
					}
					const invite = new IncomingInvite(this, req, tx);
					this.safeEmit('invite', invite);
					return;
				}
				case 'OPTIONS': {
					this.#respond(tx, 200, 'OK', [
						['allow', ALLOW],
						['accept', 'application/sdp'],
					]);
					return;
				}
				case 'BYE': {
					this.#respond(tx, 481, 'Call/Transaction Does Not Exist');
					return;
				}
				default: {
					if (KNOWN_METHODS.has(req.method)) {
						this.#respond(tx, 405, 'Method Not Allowed', [['allow', ALLOW]]);
					} else {
						this.#respond(tx, 501, 'Not Implemented', [['allow', ALLOW]]);
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
	readonly #ua: SipUserAgent;
	readonly #tx: ServerTransaction;
	readonly #toTag = generateTag();
	#final = false;
	#cancelled = false;

	/** @internal */
	constructor(ua: SipUserAgent, req: SipRequest, tx: ServerTransaction) {
		super();
		this.#ua = ua;
		this.req = req;
		this.#tx = tx;
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
			headers.push(['contact', this.#contact()], ['allow', ALLOW]);
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
		const user = this.requestUri.user ? `${this.requestUri.user}@` : '';
		const t = this.req.source?.transport;
		const param = t && t !== 'udp' ? `;transport=${t}` : '';
		return `<sip:${user}${this.#ua.advertisedAddress}:${this.#ua.port}${param}>`;
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
		const dialog = new Dialog(this.#ua, this.req, this.#toTag, sdp);
		this.#ua.registerDialog(dialog);
		this.#tx.on('acktimeout', () => {
			void dialog.bye('ack-timeout');
		});
		this.#send(200, 'OK', sdp);
		return dialog;
	}
}

export type DialogEvents = {
	/** The ACK to our 2xx (carries the SDP answer when the INVITE had none). */
	ack: [SipRequest];
	/** An in-dialog request the dialog did not handle itself (INFO …). */
	request: [SipRequest];
	destroy: [reason: string];
};

/** A UAS dialog created by our 2xx to an INVITE (RFC 3261 §12.1.1). */
export class Dialog extends TypedEmitter<DialogEvents> {
	readonly callId: string;
	readonly localTag: string;
	readonly remoteTag: string;
	/** Our identity (the INVITE's To, with our tag) and theirs (its From). */
	readonly localUri: string;
	readonly remoteUri: string;
	readonly remoteTarget: string;
	readonly routeSet: string[];
	readonly #ua: SipUserAgent;
	readonly #peer: SipAddress;
	#localSeq = Math.floor(Math.random() * 10_000) + 1;
	#remoteSeq: number;
	#localSdp: string;
	#acked = false;
	#destroyed = false;

	/** @internal */
	constructor(ua: SipUserAgent, invite: SipRequest, localTag: string, localSdp: string) {
		super();
		this.#ua = ua;
		this.callId = invite.headers.get('call-id') ?? '';
		this.localTag = localTag;
		this.remoteTag = tagOf(invite.headers.get('from')) ?? '';
		this.localUri = `${invite.headers.get('to') ?? ''};tag=${localTag}`;
		this.remoteUri = invite.headers.get('from') ?? '';
		const contact = invite.headers.get('contact');
		let target = invite.uri;
		if (contact) {
			try {
				target = parseNameAddr(contact).uriText;
			} catch {
				// keep the Request-URI
			}
		}
		this.remoteTarget = target;
		this.routeSet = invite.headers.getAll('record-route');
		this.#remoteSeq = parseCSeq(invite.headers.get('cseq') ?? '0 INVITE').seq;
		// Requests go back along the flow the INVITE came on (NAT, TCP).
		this.#peer = invite.source ?? { transport: 'udp', address: '127.0.0.1', port: 5060 };
		this.#localSdp = localSdp;
	}

	get destroyed(): boolean {
		return this.#destroyed;
	}

	get acked(): boolean {
		return this.#acked;
	}

	get localSdp(): string {
		return this.#localSdp;
	}

	/** @internal */
	handleAck(ack: SipRequest): void {
		if (this.#acked || this.#destroyed) {
			return;
		}
		this.#acked = true;
		this.safeEmit('ack', ack);
	}

	#reply(req: SipRequest, tx: ServerTransaction, status: number, reason?: string, body?: string): void {
		const opts: Parameters<typeof createResponse>[3] = { headers: [['server', this.#ua.userAgentName]] };
		if (body !== undefined) {
			opts.body = Buffer.from(body, 'utf8');
			opts.contentType = 'application/sdp';
			opts.headers!.push(['contact', `<sip:${this.#ua.advertisedAddress}:${this.#ua.port}>`]);
		}
		tx.respond(createResponse(req, status, reason, opts));
	}

	/** @internal */
	handleRequest(req: SipRequest, tx: ServerTransaction): void {
		const seq = parseCSeq(req.headers.get('cseq') ?? '').seq;
		if (req.method !== 'ACK' && req.method !== 'CANCEL') {
			if (seq < this.#remoteSeq) {
				this.#reply(req, tx, 500, 'Server Internal Error');
				return;
			}
			this.#remoteSeq = seq;
		}
		switch (req.method) {
			case 'BYE': {
				this.#reply(req, tx, 200, 'OK');
				this.destroy('bye');
				return;
			}
			case 'INVITE':
			case 'UPDATE': {
				// Session refresh or re-offer: keep our side as it is. Hold and
				// codec changes are handled by the in-dialog work of the SIP issue.
				this.#reply(req, tx, 200, 'OK', req.body.length > 0 || req.method === 'INVITE' ? this.#localSdp : undefined);
				return;
			}
			case 'OPTIONS':
			case 'INFO': {
				this.#reply(req, tx, 200, 'OK');
				this.safeEmit('request', req);
				return;
			}
			default: {
				this.#reply(req, tx, 501, 'Not Implemented');
			}
		}
	}

	/** Sends BYE (once) and destroys the dialog; resolves when answered or timed out. */
	bye(reason = 'local'): Promise<void> {
		if (this.#destroyed) {
			return Promise.resolve();
		}
		const headers = new SipHeaders();
		for (const r of this.routeSet) {
			headers.append('route', r);
		}
		headers.append('from', this.localUri);
		headers.append('to', this.remoteUri);
		headers.append('call-id', this.callId);
		headers.append('cseq', `${++this.#localSeq} BYE`);
		headers.append('max-forwards', '70');
		headers.append('user-agent', this.#ua.userAgentName);
		const req: SipRequest = { kind: 'request', method: 'BYE', uri: this.remoteTarget, version: 'SIP/2.0', headers, body: Buffer.alloc(0) };
		this.destroy(reason);
		return new Promise<void>((resolve) => {
			try {
				this.#ua.transactions.sendRequest(req, this.#peer, {
					onFinal: (_res: SipResponse) => resolve(),
					onTimeout: () => resolve(),
				});
			} catch {
				resolve();
			}
		});
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
