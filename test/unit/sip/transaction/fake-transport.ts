/**
 * A transport stand-in for transaction tests: records what is sent and
 * delivers hand-built messages, so timers run on a ManualClock with no sockets.
 */
import { EventEmitter } from 'node:events';
import type { Clock } from '../../../../src/common/time.js';
import { SipHeaders, type SipAddress, type SipMessage, type SipRequest, type SipResponse } from '../../../../src/sip/message/types.js';

export class FakeTransport extends EventEmitter {
	readonly host = '10.0.0.1';
	readonly port = 5060;
	readonly sent: Array<{ msg: SipMessage; dest: SipAddress; at: number }> = [];
	/** When set, every send fails with this error (asynchronously, like the real one). */
	failWith: Error | undefined;
	readonly #clock: Clock | undefined;

	constructor(clock?: Clock) {
		super();
		this.#clock = clock;
	}

	send(msg: SipMessage, dest: SipAddress, onError?: (err: Error) => void): void {
		this.sent.push({ msg, dest, at: this.#clock?.now() ?? 0 });
		const err = this.failWith;
		if (err && onError) {
			process.nextTick(onError, err);
		}
	}

	deliver(msg: SipMessage): void {
		this.emit('message', msg);
	}

	responses(status?: number): SipResponse[] {
		return this.sent.map((s) => s.msg).filter((m): m is SipResponse => m.kind === 'response' && (status === undefined || m.status === status));
	}

	requests(method?: string): SipRequest[] {
		return this.sent.map((s) => s.msg).filter((m): m is SipRequest => m.kind === 'request' && (method === undefined || m.method === method));
	}

	/** Send times of responses with this status, or of requests with this method. */
	times(what: number | string): number[] {
		return this.sent
			.filter((s) => (typeof what === 'number' ? s.msg.kind === 'response' && s.msg.status === what : s.msg.kind === 'request' && s.msg.method === what))
			.map((s) => s.at);
	}

	clear(): void {
		this.sent.length = 0;
	}
}

export const UAC: SipAddress = { transport: 'udp', address: '192.0.2.10', port: 5070 };

export interface RequestOptions {
	branch?: string;
	callId?: string;
	seq?: number;
	/** CSeq method when it should differ from the request method. */
	cseqMethod?: string;
	toTag?: string;
	source?: SipAddress;
	sentBy?: string;
}

/** A request as a remote UAC would send it, already "received" from `source`. */
export function makeRequest(method: string, o: RequestOptions = {}): SipRequest {
	const src = o.source ?? UAC;
	const h = new SipHeaders();
	h.append('via', `SIP/2.0/${src.transport.toUpperCase()} ${o.sentBy ?? `${src.address}:${src.port}`};branch=${o.branch ?? 'z9hG4bKaaa1'}`);
	h.append('max-forwards', '70');
	h.append('from', '<sip:alice@example.com>;tag=fromtag1');
	h.append('to', '<sip:room@example.com>' + (o.toTag ? `;tag=${o.toTag}` : ''));
	h.append('call-id', o.callId ?? 'call-1@example.com');
	h.append('cseq', `${o.seq ?? 1} ${o.cseqMethod ?? method}`);
	return { kind: 'request', method, uri: 'sip:room@example.com', version: 'SIP/2.0', headers: h, body: Buffer.alloc(0), source: { ...src } };
}

/** A response to a request we sent, as the remote UAS would answer it. */
export function makeResponse(req: SipRequest, status: number, reason = 'Whatever', toTag = 'totag9'): SipResponse {
	const h = new SipHeaders();
	for (const v of req.headers.getAll('via')) {
		h.append('via', v);
	}
	h.append('from', req.headers.get('from') ?? '');
	const to = req.headers.get('to') ?? '';
	h.append('to', status > 100 && !/;tag=/.test(to) ? `${to};tag=${toTag}` : to);
	h.append('call-id', req.headers.get('call-id') ?? '');
	h.append('cseq', req.headers.get('cseq') ?? '');
	return { kind: 'response', status, reason, version: 'SIP/2.0', headers: h, body: Buffer.alloc(0) };
}

/** A fresh request to send from our side (no Via: the layer adds it). */
export function outgoing(method: string, seq = 1): SipRequest {
	const h = new SipHeaders();
	h.append('from', '<sip:conf@10.0.0.1>;tag=ours1');
	h.append('to', '<sip:bob@192.0.2.20>');
	h.append('call-id', 'out-call-1');
	h.append('cseq', `${seq} ${method}`);
	h.append('route', '<sip:proxy.example.com;lr>');
	return { kind: 'request', method, uri: 'sip:bob@192.0.2.20', version: 'SIP/2.0', headers: h, body: Buffer.alloc(0) };
}
