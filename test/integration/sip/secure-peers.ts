/**
 * TLS and WebSocket peers for SIP transport tests: a TLS client that keeps
 * everything it received, and a `ws` client speaking the `sip` subprotocol.
 */
import { once } from 'node:events';
import tls from 'node:tls';
import { WebSocket } from 'ws';
import { HOST } from './helpers.js';

/** Polls `pred` every few ms until it holds or `ms` passes. */
async function until(pred: () => boolean, ms: number): Promise<boolean> {
	const end = Date.now() + ms;
	while (!pred() && Date.now() < end) {
		await new Promise((r) => setTimeout(r, 2));
	}
	return pred();
}

export class TlsPeer {
	readonly socket: tls.TLSSocket;
	#data = '';
	#closed = false;

	static async connect(port: number, opts: tls.ConnectionOptions = {}): Promise<TlsPeer> {
		const socket = tls.connect({ host: HOST, port, rejectUnauthorized: false, ...opts });
		const peer = new TlsPeer(socket);
		await once(socket, 'secureConnect');
		return peer;
	}

	private constructor(socket: tls.TLSSocket) {
		this.socket = socket;
		socket.on('data', (b: Buffer) => {
			this.#data += b.toString('utf8');
		});
		socket.on('close', () => {
			this.#closed = true;
		});
		socket.on('error', () => {});
	}

	get data(): string {
		return this.#data;
	}

	get closed(): boolean {
		return this.#closed;
	}

	write(text: string): Promise<void> {
		return new Promise((resolve, reject) => this.socket.write(text, (e) => (e ? reject(e) : resolve())));
	}

	until(pred: () => boolean, ms = 2000): Promise<boolean> {
		return until(pred, ms);
	}

	close(): void {
		this.socket.destroy();
	}
}

export interface WsFrame {
	text: string;
	binary: boolean;
}

export class WsPeer {
	readonly ws: WebSocket;
	readonly frames: WsFrame[] = [];
	#closed = false;
	closeCode: number | undefined;

	/** Opens a WebSocket; rejects with the HTTP status when the handshake is refused. */
	static async connect(url: string, protocols: string | string[] | undefined = 'sip', opts: { rejectUnauthorized?: boolean } = {}): Promise<WsPeer> {
		const ws = new WebSocket(url, protocols, { rejectUnauthorized: opts.rejectUnauthorized ?? false });
		const peer = new WsPeer(ws);
		await new Promise<void>((resolve, reject) => {
			ws.once('open', () => resolve());
			ws.once('unexpected-response', (_req, res) => {
				reject(Object.assign(new Error(`handshake refused: ${res.statusCode}`), { status: res.statusCode }));
				ws.terminate();
			});
			ws.once('error', reject);
		});
		return peer;
	}

	private constructor(ws: WebSocket) {
		this.ws = ws;
		ws.on('message', (data, isBinary) => {
			const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
			this.frames.push({ text: buf.toString('utf8'), binary: isBinary });
		});
		ws.on('close', (code) => {
			this.#closed = true;
			this.closeCode = code;
		});
		ws.on('error', () => {});
	}

	get closed(): boolean {
		return this.#closed;
	}

	send(data: string | Buffer, binary = false): Promise<void> {
		return new Promise((resolve, reject) => this.ws.send(data, { binary }, (e) => (e ? reject(e) : resolve())));
	}

	/** The first frame received after `from` whose text passes `pred`. */
	async next(pred: (f: WsFrame) => boolean = () => true, from = 0, ms = 2000): Promise<WsFrame | undefined> {
		let found: WsFrame | undefined;
		await until(() => (found = this.frames.slice(from).find(pred)) !== undefined, ms);
		return found;
	}

	until(pred: () => boolean, ms = 2000): Promise<boolean> {
		return until(pred, ms);
	}

	close(): void {
		this.ws.terminate();
	}
}
