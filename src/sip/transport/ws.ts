/**
 * SIP over WebSocket (RFC 7118) for browser clients such as SIP.js and JsSIP:
 * an HTTP(S) server that upgrades requests offering the `sip` subprotocol and
 * refuses the rest. Each WebSocket message is one whole SIP message, text or
 * binary, so there is no Content-Length framing. Connections are only
 * accepted, never opened: browsers cannot be dialled, so a request for a
 * client whose WebSocket is gone fails with NoConnectionError.
 */
import { isUtf8 } from 'node:buffer';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { ServerError } from '../../common/errors.js';
import { childLogger } from '../../common/logger.js';
import type { CertificatePair } from './certificate.js';
import { MAX_STREAM_MESSAGE } from './framing.js';
import { idCounter, listenServer, plainAddress, remoteKey, type StreamHandlers } from './stream.js';

const log = childLogger({ mod: 'sip.ws' });

/** The WebSocket subprotocol of RFC 7118 §4.1. */
export const SIP_SUBPROTOCOL = 'sip';

/** There is no open connection to send on, and this transport cannot open one. */
export class NoConnectionError extends ServerError {
	constructor(message: string) {
		super('SIP_NO_CONNECTION', message);
	}
}

export interface WsOptions {
	/** Only upgrade requests for this path (e.g. '/sip'); default any path. */
	path?: string;
	/** Serve wss (WebSocket over TLS) with this pair; default plain ws. */
	tls?: CertificatePair;
}

interface Connection {
	readonly id: number;
	readonly ws: WebSocket;
	readonly key: string;
}

// SIP.js pings with a double CRLF and waits for one CRLF back (as RFC 5626 on TCP).
const PING = '\r\n\r\n';

/** The offered subprotocol that names SIP, as the client spelt it; undefined if none. */
export function pickSipProtocol(offered: Iterable<string>): string | undefined {
	for (const p of offered) {
		if (p.trim().toLowerCase() === SIP_SUBPROTOCOL) {
			return p.trim();
		}
	}
	return undefined;
}

function toBuffer(data: RawData): Buffer {
	if (Buffer.isBuffer(data)) {
		return data;
	}
	return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/** Ends a handshake with a plain HTTP error and closes the socket. */
function refuse(socket: net.Socket, status: number, text: string): void {
	const body = text + '\n';
	socket.end(
		`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\n` +
			'Connection: close\r\n' +
			'Content-Type: text/plain; charset=utf-8\r\n' +
			`Content-Length: ${Buffer.byteLength(body)}\r\n` +
			'\r\n' +
			body,
	);
	// Do not wait for the peer's FIN forever.
	setTimeout(() => socket.destroy(), 1000).unref();
}

export class WsTransport {
	readonly #server: http.Server;
	readonly #wss: WebSocketServer;
	readonly #handlers: StreamHandlers;
	readonly #nextId: () => number;
	readonly #path: string | undefined;
	readonly #secure: boolean;
	readonly #conns = new Map<number, Connection>();
	readonly #byRemote = new Map<string, Connection>();
	// Every accepted TCP socket (plain HTTP, handshaking or upgraded), so close() leaves none behind.
	readonly #raw = new Set<net.Socket>();
	#closed = false;

	/** Listens on host:port; rejects (e.g. EADDRINUSE, a bad PEM) without leaving a socket. */
	static async listen(host: string, port: number, opts: WsOptions, handlers: StreamHandlers, nextId: () => number = idCounter()): Promise<WsTransport> {
		const server = opts.tls
			? https.createServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' })
			: http.createServer();
		await listenServer(server, host, port);
		return new WsTransport(server, opts, handlers, nextId);
	}

	private constructor(server: http.Server, opts: WsOptions, handlers: StreamHandlers, nextId: () => number) {
		this.#server = server;
		this.#handlers = handlers;
		this.#nextId = nextId;
		this.#path = opts.path;
		this.#secure = opts.tls !== undefined;
		this.#wss = new WebSocketServer({
			noServer: true,
			clientTracking: false,
			perMessageDeflate: false,
			maxPayload: MAX_STREAM_MESSAGE,
			handleProtocols: (offered) => pickSipProtocol(offered) ?? false,
		});
		server.on('error', (err) => log.warn({ err }, 'WebSocket server error'));
		server.on('clientError', (err, socket) => {
			log.debug({ err }, 'bad HTTP request on the WebSocket port');
			socket.destroy();
		});
		server.on('connection', (socket: net.Socket) => {
			if (this.#closed) {
				socket.destroy();
				return;
			}
			this.#raw.add(socket);
			socket.once('close', () => this.#raw.delete(socket));
		});
		server.on('request', (_req, res) => {
			res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket', Connection: 'close' });
			res.end('SIP over WebSocket (RFC 7118): upgrade with subprotocol "sip"\n');
		});
		server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => this.#upgrade(req, socket, head));
	}

	get port(): number {
		return (this.#server.address() as net.AddressInfo).port;
	}

	get connectionCount(): number {
		return this.#conns.size;
	}

	has(connectionId: number): boolean {
		return this.#conns.has(connectionId);
	}

	/**
	 * Sends one message on `connectionId` when it is still open, else on an
	 * open connection from address:port; fails with NoConnectionError when
	 * there is neither. Text frames for UTF-8, binary frames otherwise
	 * (RFC 7118 §5.1).
	 */
	send(buf: Buffer, dest: { address: string; port: number; connectionId?: number }, onError: (err: Error) => void): void {
		let conn = dest.connectionId === undefined ? undefined : this.#conns.get(dest.connectionId);
		conn ??= this.#byRemote.get(remoteKey(dest.address, dest.port));
		if (this.#closed || !conn || conn.ws.readyState !== WebSocket.OPEN) {
			const what = this.#closed ? 'WebSocket transport closed' : `no open WebSocket connection to ${dest.address}:${dest.port}`;
			process.nextTick(onError, new NoConnectionError(what));
			return;
		}
		conn.ws.send(buf, { binary: !isUtf8(buf) }, (err) => {
			if (err) {
				onError(err);
			}
		});
	}

	close(): Promise<void> {
		if (this.#closed) {
			return Promise.resolve();
		}
		this.#closed = true;
		for (const conn of this.#conns.values()) {
			conn.ws.terminate();
		}
		for (const socket of this.#raw) {
			socket.destroy();
		}
		this.#conns.clear();
		this.#byRemote.clear();
		this.#raw.clear();
		this.#wss.close();
		return new Promise((resolve) => this.#server.close(() => resolve()));
	}

	#upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
		if (this.#closed) {
			socket.destroy();
			return;
		}
		socket.on('error', (err) => log.debug({ err }, 'WebSocket handshake socket error'));
		const url = req.url ?? '/';
		const pathname = url.includes('?') ? url.slice(0, url.indexOf('?')) : url;
		if (this.#path !== undefined && pathname !== this.#path) {
			refuse(socket, 404, `no SIP WebSocket endpoint at ${pathname}`);
			return;
		}
		const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',');
		if (pickSipProtocol(offered) === undefined) {
			log.debug({ address: socket.remoteAddress, offered: req.headers['sec-websocket-protocol'] }, 'refused a WebSocket without the sip subprotocol');
			refuse(socket, 400, 'the WebSocket subprotocol "sip" is required (RFC 7118)');
			return;
		}
		this.#wss.handleUpgrade(req, socket, head, (ws) => this.#adopt(ws, socket));
	}

	#adopt(ws: WebSocket, socket: net.Socket): void {
		if (this.#closed) {
			ws.terminate();
			return;
		}
		const address = plainAddress(socket.remoteAddress ?? '');
		const port = socket.remotePort ?? 0;
		const conn: Connection = { id: this.#nextId(), ws, key: remoteKey(address, port) };
		this.#conns.set(conn.id, conn);
		this.#byRemote.set(conn.key, conn);
		log.debug({ connectionId: conn.id, address, port, secure: this.#secure }, 'WebSocket connected');
		ws.on('message', (data) => {
			const buf = toBuffer(data);
			if (buf.length === PING.length && buf.toString('latin1') === PING) {
				ws.send('\r\n');
				return;
			}
			try {
				this.#handlers.message(buf, { address, port, connectionId: conn.id });
			} catch (err) {
				log.error({ err }, 'WebSocket message handler threw');
			}
		});
		ws.on('error', (err) => log.debug({ err, connectionId: conn.id }, 'WebSocket connection error'));
		ws.on('close', () => {
			this.#conns.delete(conn.id);
			if (this.#byRemote.get(conn.key) === conn) {
				this.#byRemote.delete(conn.key);
			}
		});
	}
}
