/**
 * TestUA: a small SIP user agent written for the tests, over real UDP on
 * 127.0.0.1, speaking raw SIP text. It imports nothing from src/, so it can
 * catch bugs in the server's own SIP stack and media path instead of sharing
 * them.
 *
 *   const ua = await TestUA.create({ user: 'alice' });
 *   const res = await ua.call({ host: '127.0.0.1', port: server.sipPort, user: '1000' }, { tone: 440 });
 *   assert.equal(res.status, 200);
 *   await ua.waitForAudio(3 * 8000);
 *   assert.ok(toneRatio(ua.received, 8000, 1000) > 0.2);
 *   await ua.sendDtmf('1234#');
 *   await ua.bye();
 *   ua.close();
 *
 * What it does (UDP only, one dialog at a time):
 * - UAC INVITE client transaction: Timer A retransmissions until any response,
 *   a bounded wait for the final response, ACK for 2xx (To tag, Contact as
 *   Request-URI, route set from Record-Route) and for non-2xx (§17.1.1.3, same
 *   branch), ACK re-sent when a final response is retransmitted. CANCEL.
 * - Late offer: `withSdp: false` sends an INVITE without SDP and answers the
 *   offer of the 2xx in the ACK.
 * - RTP: a drift-free 20 ms sender (G.711 tone or silence, correct seq/ts/SSRC,
 *   marker on the first packet), RFC 4733 DTMF (9 packets + 3 end packets per
 *   digit, same SSRC and sequence space), optional sending from a second
 *   socket to test symmetric RTP. Received packets are logged (seq, ts, SSRC,
 *   PT, marker, source) and G.711 payloads decoded into `received`.
 * - UAS side: answers BYE (200, or 481 if it does not match the dialog),
 *   OPTIONS (200), re-INVITE (200 with our SDP), INFO/NOTIFY (200), CANCEL,
 *   and with `autoAnswer` incoming INVITEs (180 + 200, Timer G retransmission
 *   until ACK). Anything else gets 501. `onRequest` can override the status.
 * - Everything received is logged in `requests` / `responses`; `sendRaw()` and
 *   `waitFor*()` support raw-SIP tests.
 */
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { randomInt } from 'node:crypto';
import { g711Decode, g711Encode, type G711Law } from './g711.js';
import { ToneGenerator } from './goertzel.js';
import {
	buildSdp,
	buildSip,
	headerParam,
	hostPortOf,
	newBranch,
	newCallId,
	newTag,
	parseSdpAudio,
	parseSip,
	type SdpAudio,
	type SipMessage,
	type SipRemote,
	uriOf,
} from './sip-text.js';

export { parseSip, buildSip, parseSdpAudio, SipMessage, newBranch, newTag, newCallId, headerParam, uriOf } from './sip-text.js';
export type { SdpAudio, SipRemote } from './sip-text.js';

export type Codec = G711Law;

/** RFC 3261 timer values (ms). */
const T1 = 500;
const T2 = 4000;
const FRAME_MS = 20;
const FRAME_SAMPLES = 160;
/** At most this many late 20 ms frames are sent in one burst after a stall; older ones are skipped. */
const MAX_CATCH_UP = 10;

const DTMF_EVENTS = '0123456789*#ABCD';

export interface TestUAOptions {
	/** SIP user name (From/Contact user; also the caller number). Default 'testua'. */
	user?: string;
	/** Local address to bind and advertise. Default 127.0.0.1. */
	host?: string;
	/** Answer incoming out-of-dialog INVITEs (180 then 200). Default false: 486. */
	autoAnswer?: boolean;
	/** Tone (Hz) to send on auto-answered calls; silence if omitted. */
	answerTone?: number;
	/** Codecs accepted on auto-answered calls, in preference order. */
	answerCodecs?: Codec[];
	/**
	 * Hook for every received request except ACK, before the default handling.
	 * Return a status code to answer with it instead (e.g. 202 for REFER), or
	 * undefined for the default behaviour.
	 */
	onRequest?: (req: SipMessage) => number | undefined;
}

export interface CallTarget {
	host: string;
	port: number;
	/** Request-URI user: the room number or extension. */
	user: string;
}

export interface CallOptions {
	/** Offered codecs in preference order. Default ['PCMU', 'PCMA']. */
	codecs?: Codec[];
	/** false: INVITE without SDP; the 2xx must carry the offer and our answer goes in the ACK. Default true. */
	withSdp?: boolean;
	/** Tone (Hz) to send continuously once connected; silence if omitted. */
	tone?: number;
	/** Peak amplitude of the tone in int16 units. Default 8000. */
	amplitude?: number;
	/** Send RTP at all once connected. Default true. */
	sendRtp?: boolean;
	/** 'other': send RTP from a second socket than the one in our SDP (symmetric-RTP test). Default 'same'. */
	rtpFromPort?: 'same' | 'other';
	/** telephone-event payload type to offer; null offers none. Default 101. */
	dtmfPt?: number | null;
	/** Extra headers for the INVITE, e.g. [['P-Asserted-Identity', '<sip:555@x>']]. */
	extraHeaders?: Array<readonly [string, string]>;
	/** User part of the From URI (caller number). Default: the UA's user. */
	fromUser?: string;
	/** Display name in From. */
	fromDisplay?: string;
	/** Wait for the final response at most this long (Timer B). Default 32000. */
	timeoutMs?: number;
}

export interface CallResult {
	status: number;
	reason: string;
	/** The final response. */
	response: SipMessage;
	/** 1xx responses received before it. */
	provisional: SipMessage[];
	callId: string;
	/** Negotiated audio codec (null if none, or not 2xx). */
	codec: Codec | null;
	/** telephone-event payload type the far end announced (null if none). */
	dtmfPt: number | null;
	/** Where we send RTP (null if no usable SDP). */
	remoteRtp: { host: string; port: number } | null;
	/** The far end's SDP (answer, or offer with `withSdp: false`). */
	remoteSdp: SdpAudio | null;
}

export interface CallInfo {
	role: 'uac' | 'uas';
	callId: string;
	codec: Codec | null;
	dtmfPt: number | null;
	remoteRtp: { host: string; port: number } | null;
	/** The INVITE that created the dialog (ours or theirs). */
	invite: SipMessage | null;
}

export interface RtpRecord {
	seq: number;
	ts: number;
	ssrc: number;
	pt: number;
	marker: boolean;
	payloadBytes: number;
	/** Date.now() at arrival. */
	at: number;
	from: SipRemote;
	/** Which of our sockets got it: the one in our SDP, or the 'other' sender socket. */
	socket: 'sdp' | 'other';
}

export interface DtmfRecord {
	event: number;
	digit: string;
	end: boolean;
	volume: number;
	duration: number;
	ts: number;
	ssrc: number;
	at: number;
}

export interface SentRecord {
	text: string;
	host: string;
	port: number;
	at: number;
}

export interface ClosedInfo {
	by: 'remote' | 'local';
	/** The BYE we received (remote) or the final response to ours (local). */
	message: SipMessage | null;
}

interface Dialog {
	role: 'uac' | 'uas';
	callId: string;
	localTag: string;
	remoteTag: string;
	/** Our From/To header value including our tag. */
	localHeader: string;
	/** Their header value including their tag. */
	remoteHeader: string;
	remoteTarget: string;
	routeSet: string[];
	localSeq: number;
	invite: SipMessage | null;
	closed: Deferred<ClosedInfo>;
	ended: boolean;
}

interface ClientTx {
	branch: string;
	method: string;
	onResponse: (res: SipMessage) => void;
}

interface Media {
	remote: { host: string; port: number };
	codec: Codec;
	pt: number;
	dtmfPt: number;
	socket: dgram.Socket;
	gen: ToneGenerator | null;
	ssrc: number;
	seq: number;
	ts0: number;
	t0: number;
	/** Frames (ticks) elapsed, sent or skipped. */
	ticks: number;
	timer: NodeJS.Timeout | null;
	dtmf: DtmfJob[];
	dtmfState: { event: number; tsStart: number; index: number; gap: number } | null;
	first: boolean;
	stopped: boolean;
}

interface DtmfJob {
	digits: string;
	pos: number;
	done: Deferred<void>;
}

interface Deferred<T> {
	promise: Promise<T>;
	resolve: (v: T) => void;
	reject: (e: Error) => void;
	settled: boolean;
}

function deferred<T>(): Deferred<T> {
	let resolve!: (v: T) => void;
	let reject!: (e: Error) => void;
	const d: Deferred<T> = {
		promise: new Promise<T>((res, rej) => {
			resolve = res;
			reject = rej;
		}),
		resolve: (v) => {
			if (!d.settled) {
				d.settled = true;
				resolve(v);
			}
		},
		reject: (e) => {
			if (!d.settled) {
				d.settled = true;
				reject(e);
			}
		},
		settled: false,
	};
	// Nobody may be listening; a rejection must not crash the test process.
	d.promise.catch(() => {});
	return d;
}

/** Races a promise against a timeout that rejects with `message`. */
export async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	try {
		return await Promise.race([
			p,
			new Promise<never>((_, reject) => {
				timer = setTimeout(() => reject(new Error(`${message} (timed out after ${ms} ms)`)), ms);
			}),
		]);
	} finally {
		clearTimeout(timer);
	}
}

/** Grow-only Int16 buffer. */
class Int16Growable {
	#buf = new Int16Array(8000 * 4);
	#len = 0;

	get length(): number {
		return this.#len;
	}

	push(samples: Int16Array): void {
		if (this.#len + samples.length > this.#buf.length) {
			const next = new Int16Array(Math.max(this.#buf.length * 2, this.#len + samples.length));
			next.set(this.#buf.subarray(0, this.#len));
			this.#buf = next;
		}
		this.#buf.set(samples, this.#len);
		this.#len += samples.length;
	}

	view(): Int16Array {
		return this.#buf.subarray(0, this.#len);
	}

	clear(): void {
		this.#len = 0;
	}
}

function bindUdp(host: string): Promise<dgram.Socket> {
	return new Promise((resolve, reject) => {
		const s = dgram.createSocket('udp4');
		s.once('error', reject);
		s.bind(0, host, () => {
			s.off('error', reject);
			resolve(s);
		});
	});
}

function tagOf(headerValue: string | undefined): string {
	return headerValue ? (headerParam(headerValue, 'tag') ?? '') : '';
}

export class TestUA {
	readonly user: string;
	readonly host: string;
	/** Every SIP request received (retransmissions included), in order. */
	readonly requests: SipMessage[] = [];
	/** Every SIP response received, in order. */
	readonly responses: SipMessage[] = [];
	/** Datagrams on the SIP socket that did not parse. */
	readonly garbage: Array<{ text: string; error: string; from: SipRemote }> = [];
	/** Everything we sent on the SIP socket. */
	readonly sent: SentRecord[] = [];
	/** Every RTP packet received (since the last call started or resetMedia()). */
	readonly packets: RtpRecord[] = [];
	/** RFC 4733 packets received. */
	readonly dtmfEvents: DtmfRecord[] = [];
	/** Digits received (one per event, on its first end packet). */
	receivedDigits = '';
	/** Count of RTP packets we sent (audio + DTMF). */
	rtpSent = 0;
	/** Set when the far end sent a BYE for our dialog. */
	byeReceived = false;

	readonly #opts: TestUAOptions;
	readonly #sip: dgram.Socket;
	readonly #rtp: dgram.Socket;
	#rtpOther: dgram.Socket | null = null;
	readonly #recv = new Int16Growable();
	readonly #dtmfSeen = new Set<string>();
	readonly #clientTx = new Map<string, ClientTx>();
	/** Server transactions: key branch|method → last response text sent, for retransmissions. */
	readonly #serverTx = new Map<string, { text: string; to: SipRemote }>();
	readonly #timers = new Set<NodeJS.Timeout>();
	readonly #events = new EventEmitter();
	#dialog: Dialog | null = null;
	#callInfo: CallInfo | null = null;
	#pendingInvite: { branch: string; inviteText: string; target: { host: string; port: number }; requestUri: string; from: string; callId: string; seq: number; final: boolean } | null = null;
	#media: Media | null = null;
	#closedOnce: Deferred<ClosedInfo> = deferred<ClosedInfo>();
	#sessionId = randomInt(1, 2 ** 31);
	#sdpVersion = 1;
	#closed = false;

	private constructor(opts: TestUAOptions, sip: dgram.Socket, rtp: dgram.Socket) {
		this.#opts = opts;
		this.user = opts.user ?? 'testua';
		this.host = opts.host ?? '127.0.0.1';
		this.#sip = sip;
		this.#rtp = rtp;
		this.#events.setMaxListeners(100);
		sip.on('message', (buf, rinfo) => this.#onSip(buf, { address: rinfo.address, port: rinfo.port }));
		rtp.on('message', (buf, rinfo) => this.#onRtp(buf, { address: rinfo.address, port: rinfo.port }, 'sdp'));
		// Errors on a UDP socket (e.g. ICMP on some platforms) must not crash the test process.
		sip.on('error', () => {});
		rtp.on('error', () => {});
	}

	/** Binds a SIP socket and an RTP socket on port 0. */
	static async create(opts: TestUAOptions = {}): Promise<TestUA> {
		const host = opts.host ?? '127.0.0.1';
		const sip = await bindUdp(host);
		let rtp: dgram.Socket;
		try {
			rtp = await bindUdp(host);
		} catch (e) {
			sip.close();
			throw e;
		}
		return new TestUA(opts, sip, rtp);
	}

	get sipPort(): number {
		return this.#sip.address().port;
	}

	get rtpPort(): number {
		return this.#rtp.address().port;
	}

	/** Port of the second RTP socket used with `rtpFromPort: 'other'` (null if not made). */
	get rtpOtherPort(): number | null {
		return this.#rtpOther ? this.#rtpOther.address().port : null;
	}

	/** Our Contact URI. */
	get contactUri(): string {
		return `sip:${this.user}@${this.host}:${this.sipPort}`;
	}

	/** A Via header value for raw requests sent from this UA. */
	via(branch: string = newBranch()): string {
		return `SIP/2.0/UDP ${this.host}:${this.sipPort};branch=${branch};rport`;
	}

	/** Decoded audio received so far (G.711 payloads in arrival order), 8 kHz. */
	get received(): Int16Array {
		return this.#recv.view();
	}

	/** The current or last established call, or null. */
	get callInfo(): CallInfo | null {
		return this.#callInfo;
	}

	/** Whether a dialog is established and not ended. */
	get inCall(): boolean {
		return this.#dialog !== null && !this.#dialog.ended;
	}

	/**
	 * Resolves when the current (or next) dialog ends: by a BYE from the far
	 * end (`byeReceived` is then true) or by our `bye()`.
	 */
	get closed(): Promise<ClosedInfo> {
		return this.#dialog ? this.#dialog.closed.promise : this.#closedOnce.promise;
	}

	/** `closed` with a bound. */
	waitClosed(timeoutMs = 10000): Promise<ClosedInfo> {
		return withTimeout(this.closed, timeoutMs, `TestUA(${this.user}): call did not end`);
	}

	/** Forgets received audio, RTP records and DTMF (e.g. to measure only what follows). */
	resetMedia(): void {
		this.#recv.clear();
		this.packets.length = 0;
		this.dtmfEvents.length = 0;
		this.receivedDigits = '';
		this.#dtmfSeen.clear();
	}

	/** Sends a datagram from the SIP socket as is. */
	sendRaw(text: string | Buffer, host: string, port: number): void {
		this.#assertOpen();
		const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
		this.sent.push({ text: buf.toString('utf8'), host, port, at: Date.now() });
		this.#sip.send(buf, port, host, () => {});
	}

	/**
	 * Waits for a received SIP message matching `pred` (already received ones
	 * count unless `includePast` is false).
	 */
	waitFor(pred: (m: SipMessage) => boolean, timeoutMs = 5000, what = 'a matching SIP message', includePast = true): Promise<SipMessage> {
		if (includePast) {
			const hit = [...this.requests, ...this.responses].sort((a, b) => a.at - b.at).find(pred);
			if (hit) {
				return Promise.resolve(hit);
			}
		}
		return new Promise<SipMessage>((resolve, reject) => {
			const cleanup = (): void => {
				clearTimeout(timer);
				this.#events.off('message', on);
				this.#events.off('ua-closed', onClose);
			};
			const on = (m: SipMessage): void => {
				if (pred(m)) {
					cleanup();
					resolve(m);
				}
			};
			const onClose = (): void => {
				cleanup();
				reject(new Error(`TestUA(${this.user}): closed while waiting for ${what}`));
			};
			const timer = setTimeout(() => {
				cleanup();
				reject(new Error(`TestUA(${this.user}): no ${what} within ${timeoutMs} ms`));
			}, timeoutMs);
			this.#events.on('message', on);
			this.#events.once('ua-closed', onClose);
		});
	}

	/** Waits for a response with this Call-ID (and CSeq method if given). */
	waitForResponse(callId: string, method?: string, timeoutMs = 5000): Promise<SipMessage> {
		return this.waitFor(
			(m) => !m.isRequest && m.callId === callId && (method === undefined || m.cseq?.method === method.toUpperCase()),
			timeoutMs,
			`response for Call-ID ${callId}${method ? ` ${method}` : ''}`,
		);
	}

	/** Waits for a received request of this method. */
	waitForRequest(method: string, timeoutMs = 5000, includePast = true): Promise<SipMessage> {
		const m = method.toUpperCase();
		return this.waitFor((x) => x.isRequest && x.method === m, timeoutMs, `${m} request`, includePast);
	}

	/** Waits until at least `samples` decoded samples were received. */
	async waitForAudio(samples: number, timeoutMs = 10000): Promise<Int16Array> {
		const deadline = Date.now() + timeoutMs;
		while (this.#recv.length < samples) {
			if (Date.now() > deadline) {
				throw new Error(
					`TestUA(${this.user}): only ${this.#recv.length} of ${samples} audio samples received ` +
						`(${this.packets.length} RTP packets) within ${timeoutMs} ms`,
				);
			}
			await new Promise((r) => setTimeout(r, 20));
		}
		return this.received;
	}

	/** Waits until the received digits contain `digits`. */
	async waitForDigits(digits: string, timeoutMs = 10000): Promise<string> {
		const deadline = Date.now() + timeoutMs;
		while (!this.receivedDigits.includes(digits)) {
			if (Date.now() > deadline) {
				throw new Error(`TestUA(${this.user}): digits ${JSON.stringify(digits)} not received within ${timeoutMs} ms (got ${JSON.stringify(this.receivedDigits)})`);
			}
			await new Promise((r) => setTimeout(r, 20));
		}
		return this.receivedDigits;
	}

	/** Waits until a dialog is established (ours or an auto-answered incoming one). */
	waitForCall(timeoutMs = 10000): Promise<CallInfo> {
		if (this.inCall && this.#callInfo) {
			return Promise.resolve(this.#callInfo);
		}
		return withTimeout(
			new Promise<CallInfo>((resolve) => this.#events.once('established', resolve)),
			timeoutMs,
			`TestUA(${this.user}): no call established`,
		);
	}

	// -------------------------------------------------------------------------
	// UAC: INVITE

	/**
	 * Calls `target`. Resolves with the final response once it is ACKed (for a
	 * 2xx the media starts right after the ACK). Rejects if no final response
	 * arrives within `timeoutMs`.
	 */
	async call(target: CallTarget, opts: CallOptions = {}): Promise<CallResult> {
		this.#assertOpen();
		if (this.#pendingInvite && !this.#pendingInvite.final) {
			throw new Error(`TestUA(${this.user}): a call is already being set up`);
		}
		if (this.inCall) {
			throw new Error(`TestUA(${this.user}): already in a call; bye() first`);
		}
		const codecs = opts.codecs ?? ['PCMU', 'PCMA'];
		const withSdp = opts.withSdp ?? true;
		const offeredDtmf = opts.dtmfPt === undefined ? 101 : opts.dtmfPt;
		const timeoutMs = opts.timeoutMs ?? 64 * T1;
		if (opts.rtpFromPort === 'other' && !this.#rtpOther) {
			const s = await bindUdp(this.host);
			s.on('message', (buf, rinfo) => this.#onRtp(buf, { address: rinfo.address, port: rinfo.port }, 'other'));
			s.on('error', () => {});
			this.#rtpOther = s;
		}
		this.resetMedia();
		this.byeReceived = false;
		this.#callInfo = null;

		const requestUri = `sip:${target.user}@${target.host}:${target.port}`;
		const callId = newCallId(this.host);
		const localTag = newTag();
		const branch = newBranch();
		const seq = randomInt(1, 10000);
		const fromUser = opts.fromUser ?? this.user;
		const display = opts.fromDisplay !== undefined ? `"${opts.fromDisplay}" ` : '';
		const from = `${display}<sip:${fromUser}@${this.host}>;tag=${localTag}`;
		const to = `<sip:${target.user}@${target.host}:${target.port}>`;
		const sdp = withSdp ? this.#sdp(codecs, offeredDtmf) : '';
		const headers: Array<readonly [string, string | number]> = [
			['Via', this.via(branch)],
			['Max-Forwards', 70],
			['From', from],
			['To', to],
			['Call-ID', callId],
			['CSeq', `${seq} INVITE`],
			['Contact', `<${this.contactUri}>`],
			['Allow', 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY'],
			['Supported', 'replaces'],
			['User-Agent', 'confsrv-test-ua'],
			...(opts.extraHeaders ?? []),
		];
		if (withSdp) {
			headers.push(['Content-Type', 'application/sdp']);
		}
		const inviteText = buildSip(`INVITE ${requestUri} SIP/2.0`, headers, sdp);
		const pending = { branch, inviteText, target: { host: target.host, port: target.port }, requestUri, from, callId, seq, final: false };
		this.#pendingInvite = pending;

		const provisional: SipMessage[] = [];
		const finalResponse = deferred<SipMessage>();
		let gotAny = false;
		let ackText: string | null = null;
		let ackDest: { host: string; port: number } = pending.target;

		this.#clientTx.set(`${branch}|INVITE`, {
			branch,
			method: 'INVITE',
			onResponse: (res) => {
				gotAny = true;
				if (res.status < 200) {
					if (!pending.final) {
						provisional.push(res);
					}
					return;
				}
				if (pending.final) {
					// Retransmitted final response: repeat our ACK (§13.2.2.4, §17.1.1.2).
					if (ackText) {
						this.#send(ackText, ackDest.host, ackDest.port);
					}
					return;
				}
				pending.final = true;
				finalResponse.resolve(res);
			},
		});

		// Timer A: retransmit until any response; T1, 2·T1, 4·T1 … (UDP).
		let interval = T1;
		const retransmit = (): void => {
			if (gotAny || pending.final || this.#closed) {
				return;
			}
			this.#send(inviteText, target.host, target.port);
			interval *= 2;
			this.#timer(retransmit, interval);
		};
		this.#send(inviteText, target.host, target.port);
		this.#timer(retransmit, interval);

		let res: SipMessage;
		try {
			res = await withTimeout(
				finalResponse.promise,
				timeoutMs,
				`TestUA(${this.user}): no final response to INVITE ${requestUri} ` +
					`(${gotAny ? `got ${provisional.map((p) => p.status).join(', ')}` : 'no response at all'})`,
			);
		} catch (e) {
			pending.final = true;
			throw e;
		}

		const result: CallResult = {
			status: res.status,
			reason: res.reason,
			response: res,
			provisional,
			callId,
			codec: null,
			dtmfPt: null,
			remoteRtp: null,
			remoteSdp: null,
		};

		if (res.status >= 300) {
			// §17.1.1.3: ACK in the same transaction: Request-URI, top Via, From,
			// Call-ID of the INVITE; To of the response; CSeq number with ACK.
			ackText = buildSip(`ACK ${requestUri} SIP/2.0`, [
				['Via', this.via(branch)],
				['Max-Forwards', 70],
				['From', from],
				['To', res.header('to') ?? to],
				['Call-ID', callId],
				['CSeq', `${seq} ACK`],
			]);
			ackDest = pending.target;
			this.#send(ackText, ackDest.host, ackDest.port);
			return result;
		}

		// 2xx: the dialog (§12.1.2).
		const remoteHeader = res.header('to') ?? to;
		const contact = res.header('contact');
		const remoteTarget = contact ? uriOf(contact) : requestUri;
		const routeSet = res.headerAll('record-route').reverse();
		const closed = this.#closedOnce.settled ? deferred<ClosedInfo>() : this.#closedOnce;
		this.#closedOnce = deferred<ClosedInfo>();
		const dialog: Dialog = {
			role: 'uac',
			callId,
			localTag,
			remoteTag: tagOf(remoteHeader),
			localHeader: from,
			remoteHeader,
			remoteTarget,
			routeSet,
			localSeq: seq,
			invite: parseSip(inviteText),
			closed,
			ended: false,
		};
		this.#dialog = dialog;

		const remoteSdp = res.body ? parseSdpAudio(res.body) : null;
		result.remoteSdp = remoteSdp;
		let ackBody = '';
		let codec: Codec | null = null;
		let dtmfPt: number | null = null;
		if (remoteSdp) {
			const te = remoteSdp.codecs.find((c) => c.name === 'TELEPHONE-EVENT');
			dtmfPt = te ? te.pt : null;
			if (withSdp) {
				// Answer: the first of its codecs that we offered.
				const c = remoteSdp.codecs.find((x) => (x.name === 'PCMU' || x.name === 'PCMA') && codecs.includes(x.name));
				codec = c ? (c.name as Codec) : null;
			} else {
				// Offer in the 2xx: pick the first one we support, answer in the ACK.
				const c = remoteSdp.codecs.find((x) => (x.name === 'PCMU' || x.name === 'PCMA') && codecs.includes(x.name));
				codec = c ? (c.name as Codec) : null;
				if (codec) {
					ackBody = this.#sdp([codec], dtmfPt !== null && offeredDtmf !== null ? dtmfPt : null);
				}
			}
			if (remoteSdp.port === 0) {
				codec = null;
			}
		}
		result.codec = codec;
		result.dtmfPt = dtmfPt;
		if (codec && remoteSdp) {
			result.remoteRtp = { host: remoteSdp.address || target.host, port: remoteSdp.port };
		}

		const ackHeaders: Array<readonly [string, string | number]> = [
			['Via', this.via(newBranch())],
			['Max-Forwards', 70],
			...routeSet.map((r) => ['Route', r] as const),
			['From', from],
			['To', remoteHeader],
			['Call-ID', callId],
			['CSeq', `${seq} ACK`],
			['Contact', `<${this.contactUri}>`],
		];
		if (ackBody) {
			ackHeaders.push(['Content-Type', 'application/sdp']);
		}
		ackText = buildSip(`ACK ${remoteTarget} SIP/2.0`, ackHeaders, ackBody);
		ackDest = this.#nextHop(dialog);
		this.#send(ackText, ackDest.host, ackDest.port);

		this.#callInfo = { role: 'uac', callId, codec, dtmfPt, remoteRtp: result.remoteRtp, invite: dialog.invite };
		if (codec && result.remoteRtp && (opts.sendRtp ?? true)) {
			const sock = opts.rtpFromPort === 'other' && this.#rtpOther ? this.#rtpOther : this.#rtp;
			// Send telephone-event with the far end's PT when it announced one, else what we offered.
			this.#startMedia(result.remoteRtp, codec, dtmfPt ?? offeredDtmf ?? 101, opts.tone, opts.amplitude, sock);
		}
		this.#events.emit('established', this.#callInfo);
		return result;
	}

	/** Cancels the INVITE being set up (the pending call() then resolves with 487, normally). */
	cancel(): void {
		const p = this.#pendingInvite;
		if (!p || p.final) {
			throw new Error(`TestUA(${this.user}): no INVITE to cancel`);
		}
		const text = buildSip(`CANCEL ${p.requestUri} SIP/2.0`, [
			['Via', this.via(p.branch)],
			['Max-Forwards', 70],
			['From', p.from],
			['To', `<${p.requestUri}>`],
			['Call-ID', p.callId],
			['CSeq', `${p.seq} CANCEL`],
		]);
		// CANCEL is its own non-INVITE transaction with the INVITE's branch.
		void this.#nonInvite(text, p.branch, 'CANCEL', p.target, 10000).catch(() => {});
	}

	// -------------------------------------------------------------------------
	// In-dialog requests

	/** Sends BYE and waits for its final response. Stops our RTP. */
	async bye(timeoutMs = 10000): Promise<SipMessage> {
		this.#assertOpen();
		const d = this.#dialog;
		if (!d || d.ended) {
			throw new Error(`TestUA(${this.user}): no call to hang up`);
		}
		this.#stopMedia();
		d.ended = true;
		const { text, branch } = this.#inDialogRequest(d, 'BYE');
		try {
			const res = await this.#nonInvite(text, branch, 'BYE', this.#nextHop(d), timeoutMs);
			d.closed.resolve({ by: 'local', message: res });
			this.#events.emit('dialog-ended');
			return res;
		} catch (e) {
			d.closed.resolve({ by: 'local', message: null });
			throw e;
		}
	}

	/** Sends an in-dialog request (INFO, OPTIONS, ...) and waits for its final response. */
	async request(method: string, opts: { body?: string; contentType?: string; headers?: Array<readonly [string, string]>; timeoutMs?: number } = {}): Promise<SipMessage> {
		this.#assertOpen();
		const d = this.#dialog;
		if (!d || d.ended) {
			throw new Error(`TestUA(${this.user}): no dialog for ${method}`);
		}
		const m = method.toUpperCase();
		const { text, branch } = this.#inDialogRequest(d, m, opts.body ?? '', opts.contentType, opts.headers ?? []);
		return this.#nonInvite(text, branch, m, this.#nextHop(d), opts.timeoutMs ?? 10000);
	}

	/**
	 * Sends DTMF as RFC 4733 events on the RTP stream: per digit 9 packets of
	 * 20 ms (marker on the first, durations 160…1440) then 3 end packets, then
	 * 60 ms of audio before the next digit. Resolves when all are sent.
	 * `pt` defaults to the negotiated telephone-event payload type (else 101).
	 */
	sendDtmf(digits: string, pt?: number): Promise<void> {
		const m = this.#media;
		if (!m || m.stopped) {
			return Promise.reject(new Error(`TestUA(${this.user}): no RTP stream to send DTMF on`));
		}
		for (const ch of digits) {
			if (!DTMF_EVENTS.includes(ch.toUpperCase())) {
				return Promise.reject(new TypeError(`bad DTMF digit ${JSON.stringify(ch)}`));
			}
		}
		if (pt !== undefined) {
			m.dtmfPt = pt;
		}
		const job: DtmfJob = { digits: digits.toUpperCase(), pos: 0, done: deferred<void>() };
		m.dtmf.push(job);
		return job.done.promise;
	}

	/** Closes sockets and timers. Does not send BYE. Idempotent. */
	close(): void {
		if (this.#closed) {
			return;
		}
		this.#closed = true;
		this.#stopMedia();
		for (const t of this.#timers) {
			clearTimeout(t);
		}
		this.#timers.clear();
		this.#events.emit('ua-closed');
		this.#events.removeAllListeners();
		for (const s of [this.#sip, this.#rtp, this.#rtpOther]) {
			try {
				s?.close();
			} catch {
				// already closed
			}
		}
		if (this.#dialog && !this.#dialog.closed.settled) {
			this.#dialog.closed.reject(new Error(`TestUA(${this.user}): closed`));
		}
		this.#closedOnce.reject(new Error(`TestUA(${this.user}): closed`));
	}

	// -------------------------------------------------------------------------
	// internals: SIP

	#assertOpen(): void {
		if (this.#closed) {
			throw new Error(`TestUA(${this.user}): closed`);
		}
	}

	#timer(fn: () => void, ms: number): NodeJS.Timeout {
		const t = setTimeout(() => {
			this.#timers.delete(t);
			fn();
		}, ms);
		this.#timers.add(t);
		return t;
	}

	#send(text: string, host: string, port: number): void {
		if (this.#closed) {
			return;
		}
		this.sent.push({ text, host, port, at: Date.now() });
		this.#sip.send(Buffer.from(text, 'utf8'), port, host, () => {});
	}

	#sdp(codecs: Codec[], dtmfPt: number | null): string {
		return buildSdp({ address: this.host, port: this.rtpPort, codecs, dtmfPt, sessionId: this.#sessionId, version: this.#sdpVersion++ });
	}

	/** Where in-dialog requests go: the first route (loose routing) or the remote target. */
	#nextHop(d: Dialog): { host: string; port: number } {
		const first = d.routeSet[0];
		return hostPortOf(first !== undefined ? uriOf(first) : d.remoteTarget);
	}

	#inDialogRequest(d: Dialog, method: string, body = '', contentType?: string, extra: Array<readonly [string, string]> = []): { text: string; branch: string } {
		const branch = newBranch();
		d.localSeq++;
		const headers: Array<readonly [string, string | number]> = [
			['Via', this.via(branch)],
			['Max-Forwards', 70],
			...d.routeSet.map((r) => ['Route', r] as const),
			['From', d.localHeader],
			['To', d.remoteHeader],
			['Call-ID', d.callId],
			['CSeq', `${d.localSeq} ${method}`],
			['User-Agent', 'confsrv-test-ua'],
			...extra,
		];
		if (body) {
			headers.push(['Content-Type', contentType ?? 'application/sdp']);
		}
		return { text: buildSip(`${method} ${d.remoteTarget} SIP/2.0`, headers, body), branch };
	}

	/** Non-INVITE client transaction over UDP: Timer E retransmissions, bounded wait. */
	#nonInvite(text: string, branch: string, method: string, dest: { host: string; port: number }, timeoutMs: number): Promise<SipMessage> {
		const done = deferred<SipMessage>();
		let interval = T1;
		let provisional = false;
		const key = `${branch}|${method}`;
		this.#clientTx.set(key, {
			branch,
			method,
			onResponse: (res) => {
				if (res.status < 200) {
					provisional = true;
				} else {
					done.resolve(res);
				}
			},
		});
		const retransmit = (): void => {
			if (done.settled || this.#closed) {
				return;
			}
			this.#send(text, dest.host, dest.port);
			interval = provisional ? T2 : Math.min(interval * 2, T2);
			this.#timer(retransmit, interval);
		};
		this.#send(text, dest.host, dest.port);
		this.#timer(retransmit, interval);
		return withTimeout(done.promise, timeoutMs, `TestUA(${this.user}): no final response to ${method}`).finally(() => {
			done.settled = true;
			this.#clientTx.delete(key);
		});
	}

	#onSip(buf: Buffer, from: SipRemote): void {
		const text = buf.toString('utf8');
		if (text.trim() === '') {
			return; // keep-alive CRLFs
		}
		let msg: SipMessage;
		try {
			msg = parseSip(text, from);
		} catch (e) {
			this.garbage.push({ text, error: (e as Error).message, from });
			return;
		}
		if (msg.isRequest) {
			this.requests.push(msg);
			this.#onRequest(msg);
		} else {
			this.responses.push(msg);
			const cseq = msg.cseq;
			const tx = this.#clientTx.get(`${msg.branch ?? ''}|${cseq?.method ?? ''}`);
			tx?.onResponse(msg);
		}
		this.#events.emit('message', msg);
	}

	/** Builds and sends a response to `req` from its source address; remembers it for retransmissions. */
	#respond(req: SipMessage, status: number, reason: string, opts: { toTag?: string; body?: string; extra?: Array<readonly [string, string]> } = {}): string {
		const headers: Array<readonly [string, string | number]> = [];
		for (const v of req.headerAll('via')) {
			headers.push(['Via', v]);
		}
		let to = req.header('to') ?? '';
		if (opts.toTag && !tagOf(to)) {
			to = `${to};tag=${opts.toTag}`;
		}
		headers.push(['From', req.header('from') ?? ''], ['To', to], ['Call-ID', req.callId ?? ''], ['CSeq', req.header('cseq') ?? '']);
		headers.push(...(opts.extra ?? []));
		if (opts.body) {
			headers.push(['Content-Type', 'application/sdp']);
		}
		const text = buildSip(`SIP/2.0 ${status} ${reason}`, headers, opts.body ?? '');
		const to_ = req.remote ?? { address: this.host, port: 5060 };
		this.#send(text, to_.address, to_.port);
		this.#serverTx.set(`${req.branch ?? ''}|${req.method}`, { text, to: to_ });
		return text;
	}

	#matchesDialog(req: SipMessage): Dialog | null {
		const d = this.#dialog;
		if (!d || req.callId !== d.callId) {
			return null;
		}
		if (tagOf(req.header('from')) !== d.remoteTag || tagOf(req.header('to')) !== d.localTag) {
			return null;
		}
		return d;
	}

	#onRequest(req: SipMessage): void {
		if (this.#closed) {
			return;
		}
		if (req.method === 'ACK') {
			this.#events.emit('ack', req);
			return;
		}
		// A retransmitted request gets the same response again.
		const prev = this.#serverTx.get(`${req.branch ?? ''}|${req.method}`);
		if (prev) {
			this.#send(prev.text, prev.to.address, prev.to.port);
			return;
		}
		const override = this.#opts.onRequest?.(req);
		if (override !== undefined) {
			this.#respond(req, override, reasonOf(override), { toTag: newTag() });
			return;
		}
		const dialog = this.#matchesDialog(req);
		switch (req.method) {
			case 'BYE': {
				if (!dialog || dialog.ended) {
					this.#respond(req, 481, 'Call/Transaction Does Not Exist');
					return;
				}
				this.#respond(req, 200, 'OK');
				this.byeReceived = true;
				dialog.ended = true;
				this.#stopMedia();
				dialog.closed.resolve({ by: 'remote', message: req });
				this.#events.emit('dialog-ended');
				return;
			}
			case 'OPTIONS': {
				this.#respond(req, 200, 'OK', {
					toTag: newTag(),
					extra: [
						['Allow', 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY'],
						['Accept', 'application/sdp'],
						['Contact', `<${this.contactUri}>`],
					],
				});
				return;
			}
			case 'CANCEL': {
				// We answer INVITEs at once, so there is never a pending one to cancel.
				const inv = this.#serverTx.get(`${req.branch ?? ''}|INVITE`);
				this.#respond(req, inv ? 200 : 481, inv ? 'OK' : 'Call/Transaction Does Not Exist');
				return;
			}
			case 'INFO':
			case 'NOTIFY': {
				if (!dialog) {
					this.#respond(req, 481, 'Call/Transaction Does Not Exist');
					return;
				}
				this.#respond(req, 200, 'OK');
				return;
			}
			case 'INVITE': {
				if (dialog) {
					this.#onReinvite(req, dialog);
					return;
				}
				if (tagOf(req.header('to'))) {
					this.#respond(req, 481, 'Call/Transaction Does Not Exist');
					return;
				}
				if (this.#opts.autoAnswer && !this.inCall && !(this.#pendingInvite && !this.#pendingInvite.final)) {
					this.#answer(req);
					return;
				}
				this.#respond(req, 486, 'Busy Here', { toTag: newTag() });
				return;
			}
			default: {
				this.#respond(req, 501, 'Not Implemented', { toTag: tagOf(req.header('to')) ? '' : newTag() });
			}
		}
	}

	/** Sends a 2xx to an INVITE and retransmits it (Timer G) until the ACK arrives (Timer H bound). */
	#send2xxUntilAck(req: SipMessage, text: string, onAck: (ack: SipMessage) => void): void {
		const cseq = req.cseq?.seq;
		const dest = req.remote ?? { address: this.host, port: 5060 };
		let acked = false;
		const onAckEvent = (ack: SipMessage): void => {
			if (ack.callId === req.callId && ack.cseq?.seq === cseq) {
				acked = true;
				this.#events.off('ack', onAckEvent);
				onAck(ack);
			}
		};
		this.#events.on('ack', onAckEvent);
		let interval = T1;
		const started = Date.now();
		const retransmit = (): void => {
			if (acked || this.#closed) {
				return;
			}
			if (Date.now() - started >= 64 * T1) {
				this.#events.off('ack', onAckEvent);
				return;
			}
			this.#send(text, dest.address, dest.port);
			interval = Math.min(interval * 2, T2);
			this.#timer(retransmit, interval);
		};
		this.#timer(retransmit, interval);
	}

	/** Answers an incoming INVITE (autoAnswer). */
	#answer(req: SipMessage): void {
		const localTag = newTag();
		const codecs = this.#opts.answerCodecs ?? ['PCMU', 'PCMA'];
		const offer = req.body ? parseSdpAudio(req.body) : null;
		let codec: Codec | null = null;
		let dtmfPt: number | null = null;
		let body: string;
		if (offer) {
			const c = offer.codecs.find((x) => (x.name === 'PCMU' || x.name === 'PCMA') && codecs.includes(x.name));
			codec = c ? (c.name as Codec) : null;
			const te = offer.codecs.find((x) => x.name === 'TELEPHONE-EVENT');
			dtmfPt = te ? te.pt : null;
			if (!codec || offer.port === 0) {
				this.#respond(req, 488, 'Not Acceptable Here', { toTag: localTag });
				return;
			}
			body = this.#sdp([codec], dtmfPt);
		} else {
			body = this.#sdp(codecs, 101);
		}
		const contact = req.header('contact');
		const closed = this.#closedOnce.settled ? deferred<ClosedInfo>() : this.#closedOnce;
		this.#closedOnce = deferred<ClosedInfo>();
		this.resetMedia();
		this.byeReceived = false;
		const to = req.header('to') ?? '';
		const dialog: Dialog = {
			role: 'uas',
			callId: req.callId ?? '',
			localTag,
			remoteTag: tagOf(req.header('from')),
			localHeader: `${to};tag=${localTag}`,
			remoteHeader: req.header('from') ?? '',
			remoteTarget: contact ? uriOf(contact) : `sip:${req.remote?.address ?? this.host}:${req.remote?.port ?? 5060}`,
			routeSet: req.headerAll('record-route'),
			localSeq: randomInt(1, 10000),
			invite: req,
			closed,
			ended: false,
		};
		this.#dialog = dialog;
		const rr = req.headerAll('record-route').map((r) => ['Record-Route', r] as const);
		this.#respond(req, 180, 'Ringing', { toTag: localTag, extra: [['Contact', `<${this.contactUri}>`]] });
		const ok = this.#respond(req, 200, 'OK', { toTag: localTag, body, extra: [...rr, ['Contact', `<${this.contactUri}>`], ['Allow', 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY']] });
		const start = (remote: SdpAudio | null, c: Codec | null, te: number | null): void => {
			const remoteRtp = remote && remote.port !== 0 ? { host: remote.address || (req.remote?.address ?? this.host), port: remote.port } : null;
			this.#callInfo = { role: 'uas', callId: dialog.callId, codec: c, dtmfPt: te, remoteRtp, invite: req };
			if (c && remoteRtp && !dialog.ended) {
				this.#startMedia(remoteRtp, c, te ?? 101, this.#opts.answerTone, undefined, this.#rtp);
			}
			this.#events.emit('established', this.#callInfo);
		};
		if (offer) {
			start(offer, codec, dtmfPt);
			this.#send2xxUntilAck(req, ok, () => {});
		} else {
			this.#send2xxUntilAck(req, ok, (ack) => {
				const answer = ack.body ? parseSdpAudio(ack.body) : null;
				const c = answer?.codecs.find((x) => (x.name === 'PCMU' || x.name === 'PCMA') && codecs.includes(x.name));
				const te = answer?.codecs.find((x) => x.name === 'TELEPHONE-EVENT');
				start(answer, c ? (c.name as Codec) : null, te ? te.pt : null);
			});
		}
	}

	/** re-INVITE: answer with our SDP (same codec) and follow a changed remote address. */
	#onReinvite(req: SipMessage, d: Dialog): void {
		const offer = req.body ? parseSdpAudio(req.body) : null;
		const m = this.#media;
		const codec: Codec = m?.codec ?? this.#callInfo?.codec ?? 'PCMU';
		let body: string;
		if (offer) {
			const has = offer.codecs.find((x) => x.name === codec);
			const c = has ? codec : (offer.codecs.find((x) => x.name === 'PCMU' || x.name === 'PCMA')?.name as Codec | undefined);
			if (!c) {
				this.#respond(req, 488, 'Not Acceptable Here');
				return;
			}
			const te = offer.codecs.find((x) => x.name === 'TELEPHONE-EVENT');
			body = this.#sdp([c], te ? te.pt : null);
			if (m && offer.port !== 0) {
				m.remote = { host: offer.address || m.remote.host, port: offer.port };
				if (c !== m.codec) {
					m.codec = c;
					m.pt = c === 'PCMU' ? 0 : 8;
				}
			}
		} else {
			body = this.#sdp([codec], this.#callInfo?.dtmfPt ?? 101);
		}
		const contact = req.header('contact');
		if (contact) {
			d.remoteTarget = uriOf(contact);
		}
		const ok = this.#respond(req, 200, 'OK', { body, extra: [['Contact', `<${this.contactUri}>`]] });
		this.#send2xxUntilAck(req, ok, () => {});
	}

	// -------------------------------------------------------------------------
	// internals: RTP

	#startMedia(remote: { host: string; port: number }, codec: Codec, dtmfPt: number, tone: number | undefined, amplitude: number | undefined, socket: dgram.Socket): void {
		this.#stopMedia();
		const m: Media = {
			remote,
			codec,
			pt: codec === 'PCMU' ? 0 : 8,
			dtmfPt,
			socket,
			gen: tone !== undefined && tone > 0 ? new ToneGenerator(tone, 8000, amplitude ?? 8000, FRAME_SAMPLES) : null,
			ssrc: randomInt(1, 2 ** 32 - 1) >>> 0,
			seq: randomInt(0, 0x10000),
			ts0: randomInt(0, 2 ** 31),
			t0: performance.now(),
			ticks: 0,
			timer: null,
			dtmf: [],
			dtmfState: null,
			first: true,
			stopped: false,
		};
		this.#media = m;
		this.#tick(m);
	}

	#stopMedia(): void {
		const m = this.#media;
		if (!m) {
			return;
		}
		m.stopped = true;
		if (m.timer) {
			clearTimeout(m.timer);
			this.#timers.delete(m.timer);
		}
		for (const job of m.dtmf) {
			job.done.reject(new Error(`TestUA(${this.user}): call ended before DTMF ${JSON.stringify(job.digits)} was sent`));
		}
		m.dtmf.length = 0;
		this.#media = null;
	}

	/** Sends every frame that is due (absolute 20 ms deadlines, no drift), then sleeps to the next one. */
	#tick(m: Media): void {
		if (m.stopped || this.#closed) {
			return;
		}
		const due = Math.floor((performance.now() - m.t0) / FRAME_MS) + 1;
		let n = due - m.ticks;
		if (n > MAX_CATCH_UP) {
			// Stalled for long: skip the oldest frames (timestamps still advance).
			const skip = n - MAX_CATCH_UP;
			m.ticks += skip;
			m.gen?.next();
			n = MAX_CATCH_UP;
		}
		for (let i = 0; i < n; i++) {
			this.#sendFrame(m);
			m.ticks++;
		}
		const next = m.t0 + m.ticks * FRAME_MS - performance.now();
		const t = setTimeout(() => {
			this.#timers.delete(t);
			this.#tick(m);
		}, Math.max(0, next));
		this.#timers.add(t);
		m.timer = t;
	}

	#sendFrame(m: Media): void {
		const ts = (m.ts0 + m.ticks * FRAME_SAMPLES) >>> 0;
		// DTMF has priority over audio while an event is being sent.
		if (!m.dtmfState) {
			const job = m.dtmf[0];
			if (job) {
				const ch = job.digits[job.pos] as string;
				m.dtmfState = { event: DTMF_EVENTS.indexOf(ch), tsStart: ts, index: 0, gap: 0 };
			}
		}
		const st = m.dtmfState;
		if (st && st.index < 12) {
			const end = st.index >= 9;
			const duration = Math.min(st.index + 1, 9) * FRAME_SAMPLES;
			const payload = Buffer.alloc(4);
			payload[0] = st.event;
			payload[1] = (end ? 0x80 : 0) | 10; // E bit, volume 10 (-10 dBm0)
			payload.writeUInt16BE(duration, 2);
			this.#sendRtp(m, m.dtmfPt, st.index === 0, st.tsStart, payload);
			st.index++;
			return;
		}
		if (st) {
			// 60 ms of audio between digits.
			st.gap++;
			if (st.gap >= 3) {
				m.dtmfState = null;
				const job = m.dtmf[0];
				if (job) {
					job.pos++;
					if (job.pos >= job.digits.length) {
						m.dtmf.shift();
						job.done.resolve();
					}
				}
			}
		}
		const pcm = m.gen ? m.gen.next() : new Int16Array(FRAME_SAMPLES);
		const payload = Buffer.from(g711Encode(m.codec, pcm).buffer);
		this.#sendRtp(m, m.pt, m.first, ts, payload);
		m.first = false;
	}

	#sendRtp(m: Media, pt: number, marker: boolean, ts: number, payload: Buffer): void {
		const pkt = Buffer.alloc(12 + payload.length);
		pkt[0] = 0x80;
		pkt[1] = (marker ? 0x80 : 0) | (pt & 0x7f);
		pkt.writeUInt16BE(m.seq, 2);
		pkt.writeUInt32BE(ts >>> 0, 4);
		pkt.writeUInt32BE(m.ssrc, 8);
		payload.copy(pkt, 12);
		m.seq = (m.seq + 1) & 0xffff;
		this.rtpSent++;
		m.socket.send(pkt, m.remote.port, m.remote.host, () => {});
	}

	#onRtp(buf: Buffer, from: SipRemote, socket: 'sdp' | 'other'): void {
		if (buf.length < 12 || buf[0]! >> 6 !== 2) {
			return;
		}
		const pt7 = buf[1]! & 0x7f;
		if (pt7 >= 72 && pt7 <= 76) {
			return; // RTCP (muxed)
		}
		const cc = buf[0]! & 0x0f;
		let off = 12 + 4 * cc;
		if (buf[0]! & 0x10) {
			if (off + 4 > buf.length) {
				return;
			}
			off += 4 + 4 * buf.readUInt16BE(off + 2);
		}
		let end = buf.length;
		if (buf[0]! & 0x20) {
			end -= buf[end - 1]!;
		}
		if (off > end) {
			return;
		}
		const rec: RtpRecord = {
			seq: buf.readUInt16BE(2),
			ts: buf.readUInt32BE(4),
			ssrc: buf.readUInt32BE(8),
			pt: pt7,
			marker: (buf[1]! & 0x80) !== 0,
			payloadBytes: end - off,
			at: Date.now(),
			from,
			socket,
		};
		this.packets.push(rec);
		const payload = buf.subarray(off, end);
		if (pt7 === 0 || pt7 === 8) {
			this.#recv.push(g711Decode(pt7 === 0 ? 'PCMU' : 'PCMA', payload));
			return;
		}
		const isDtmf = pt7 === this.#callInfo?.dtmfPt || pt7 === this.#media?.dtmfPt || pt7 === 101;
		if (isDtmf && payload.length >= 4) {
			const event = payload[0]!;
			const endBit = (payload[1]! & 0x80) !== 0;
			const digit = DTMF_EVENTS[event] ?? '?';
			this.dtmfEvents.push({ event, digit, end: endBit, volume: payload[1]! & 0x3f, duration: payload.readUInt16BE(2), ts: rec.ts, ssrc: rec.ssrc, at: rec.at });
			const key = `${rec.ssrc}:${rec.ts}`;
			if (endBit && !this.#dtmfSeen.has(key)) {
				this.#dtmfSeen.add(key);
				this.receivedDigits += digit;
			}
		}
	}
}

function reasonOf(status: number): string {
	const reasons: Record<number, string> = {
		200: 'OK',
		202: 'Accepted',
		400: 'Bad Request',
		403: 'Forbidden',
		404: 'Not Found',
		405: 'Method Not Allowed',
		480: 'Temporarily Unavailable',
		481: 'Call/Transaction Does Not Exist',
		486: 'Busy Here',
		488: 'Not Acceptable Here',
		500: 'Server Internal Error',
		501: 'Not Implemented',
		603: 'Decline',
	};
	return reasons[status] ?? 'Unknown';
}
