/**
 * Raw-socket peers for SIP integration tests: a UDP socket and a TCP
 * connection that send text and wait (briefly) for what comes back.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';

export const HOST = '127.0.0.1';

export interface RawRequestOptions {
	method?: string;
	transport?: 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';
	/** Via sent-by; default a private address unlike the real source. */
	sentBy?: string;
	viaParams?: string;
	branch?: string;
	callId?: string;
	cseq?: string;
	body?: string;
	/** Extra header lines, CRLF-terminated. */
	extra?: string;
}

export function rawRequest(o: RawRequestOptions = {}): string {
	const method = o.method ?? 'OPTIONS';
	const body = o.body ?? '';
	return (
		`${method} sip:room@${HOST} SIP/2.0\r\n` +
		`Via: SIP/2.0/${o.transport ?? 'UDP'} ${o.sentBy ?? '10.1.1.1:4540'};branch=${o.branch ?? 'z9hG4bKraw1'}${o.viaParams ?? ''}\r\n` +
		'Max-Forwards: 70\r\n' +
		'From: <sip:alice@example.com>;tag=a1\r\n' +
		'To: <sip:room@example.com>\r\n' +
		`Call-ID: ${o.callId ?? 'raw-call-1'}\r\n` +
		`CSeq: ${o.cseq ?? `1 ${method}`}\r\n` +
		(o.extra ?? '') +
		`Content-Length: ${Buffer.byteLength(body)}\r\n` +
		'\r\n' +
		body
	);
}

/** Resolves with the next value pushed, or undefined after `ms`. */
class Inbox<T> {
	readonly #items: T[] = [];
	readonly #waiters: Array<(v: T) => void> = [];

	push(v: T): void {
		const w = this.#waiters.shift();
		if (w) {
			w(v);
		} else {
			this.#items.push(v);
		}
	}

	next(ms = 1000): Promise<T | undefined> {
		const v = this.#items.shift();
		if (v !== undefined) {
			return Promise.resolve(v);
		}
		return new Promise((resolve) => {
			const t = setTimeout(() => {
				const i = this.#waiters.indexOf(done);
				if (i >= 0) {
					this.#waiters.splice(i, 1);
				}
				resolve(undefined);
			}, ms);
			const done = (x: T): void => {
				clearTimeout(t);
				resolve(x);
			};
			this.#waiters.push(done);
		});
	}
}

export class UdpPeer {
	readonly socket: dgram.Socket;
	readonly #inbox = new Inbox<string>();

	static async open(): Promise<UdpPeer> {
		const p = new UdpPeer();
		await new Promise<void>((r) => p.socket.bind(0, HOST, r));
		return p;
	}

	private constructor() {
		this.socket = dgram.createSocket('udp4');
		this.socket.on('message', (b) => this.#inbox.push(b.toString('utf8')));
	}

	get port(): number {
		return this.socket.address().port;
	}

	send(text: string | Buffer, port: number): Promise<void> {
		return new Promise((resolve, reject) => this.socket.send(Buffer.from(text), port, HOST, (e) => (e ? reject(e) : resolve())));
	}

	next(ms?: number): Promise<string | undefined> {
		return this.#inbox.next(ms);
	}

	close(): Promise<void> {
		return new Promise((r) => this.socket.close(() => r()));
	}
}

export class TcpPeer {
	readonly socket: net.Socket;
	#data = '';
	#closed = false;
	readonly #changes = new Inbox<true>();

	static async connect(port: number): Promise<TcpPeer> {
		const socket = net.connect({ host: HOST, port });
		await once(socket, 'connect');
		return new TcpPeer(socket);
	}

	private constructor(socket: net.Socket) {
		this.socket = socket;
		socket.setNoDelay(true);
		socket.on('data', (b) => {
			this.#data += b.toString('utf8');
			this.#changes.push(true);
		});
		socket.on('close', () => {
			this.#closed = true;
			this.#changes.push(true);
		});
		socket.on('error', () => {});
	}

	get closed(): boolean {
		return this.#closed;
	}

	/** Everything received so far. */
	get data(): string {
		return this.#data;
	}

	write(text: string): Promise<void> {
		return new Promise((resolve, reject) => this.socket.write(text, (e) => (e ? reject(e) : resolve())));
	}

	/** Waits until `pred` holds for the received data or the socket state, or `ms` passes. */
	async until(pred: () => boolean, ms = 1000): Promise<boolean> {
		const end = Date.now() + ms;
		while (!pred()) {
			const left = end - Date.now();
			if (left <= 0 || (await this.#changes.next(left)) === undefined) {
				return pred();
			}
		}
		return true;
	}

	close(): void {
		this.socket.destroy();
	}
}

export function delay(ms: number): Promise<void> {
	return new Promise((r) => setTimeout(r, ms));
}
