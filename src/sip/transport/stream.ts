/**
 * SIP over a byte stream (TCP, and TLS on top of it): a listening server plus
 * outgoing connections, each with its own stream framer. Connections get small
 * integer ids so a response can go back on the connection its request came on
 * (RFC 3261 §18.2.2); a stream that cannot be framed is closed, since its next
 * byte has no known meaning.
 */
import net from 'node:net';
import { childLogger } from '../../common/logger.js';
import { StreamFramer } from './framing.js';

const log = childLogger({ mod: 'sip.stream' });

export interface StreamSource {
	address: string;
	port: number;
	connectionId: number;
}

export interface StreamHandlers {
	message(buf: Buffer, src: StreamSource): void;
}

/** What differs between TCP and TLS: how sockets are accepted and opened. */
export interface StreamFlavour {
	/** For logs and errors: 'TCP', 'TLS'. */
	readonly label: string;
	/** A server not yet listening. */
	readonly server: net.Server;
	/** The server event that hands over a ready socket. */
	readonly acceptEvent: 'connection' | 'secureConnection';
	/** Opens an outgoing connection; sends may be written before it is up. */
	connect(address: string, port: number): net.Socket;
	/** The socket event that says an outgoing connection is up. */
	readonly connectEvent: 'connect' | 'secureConnect';
}

interface Connection {
	readonly id: number;
	readonly socket: net.Socket;
	readonly key: string;
	connected: boolean;
	// Error callbacks of sends queued while an outgoing connect is pending.
	waiting: Array<(err: Error) => void>;
}

/** Strips the IPv4-mapped prefix so both socket families key alike. */
export function plainAddress(address: string): string {
	return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

export function remoteKey(address: string, port: number): string {
	return `${plainAddress(address).toLowerCase()}|${port}`;
}

/** A counter of connection ids; the layer shares one across transports so an id names one connection. */
export function idCounter(): () => number {
	let next = 1;
	return () => next++;
}

/**
 * Listens on host:port and resolves once listening; rejects (e.g.
 * EADDRINUSE) without leaving a socket behind.
 */
export function listenServer(server: net.Server, host: string, port: number): Promise<void> {
	return new Promise((resolve, reject) => {
		const fail = (err: Error): void => {
			server.close();
			reject(err);
		};
		server.once('error', fail);
		server.listen({ host, port, exclusive: true }, () => {
			server.off('error', fail);
			resolve();
		});
	});
}

export class StreamTransport {
	readonly #flavour: StreamFlavour;
	readonly #handlers: StreamHandlers;
	readonly #nextId: () => number;
	readonly #conns = new Map<number, Connection>();
	// Connections by remote address and port, for reuse (§18.1.1).
	readonly #byRemote = new Map<string, Connection>();
	// Every accepted raw socket, handshaking or not, so close() leaves none behind.
	readonly #raw = new Set<net.Socket>();
	#closed = false;

	static async listen(flavour: StreamFlavour, host: string, port: number, handlers: StreamHandlers, nextId: () => number = idCounter()): Promise<StreamTransport> {
		await listenServer(flavour.server, host, port);
		return new StreamTransport(flavour, handlers, nextId);
	}

	private constructor(flavour: StreamFlavour, handlers: StreamHandlers, nextId: () => number) {
		this.#flavour = flavour;
		this.#handlers = handlers;
		this.#nextId = nextId;
		const server = flavour.server;
		server.on('error', (err) => log.warn({ err }, `${flavour.label} server error`));
		// 'connection' is the raw socket for both net and tls servers; a TLS
		// server hands the wrapped socket over later, after the handshake.
		server.on('connection', (socket: net.Socket) => {
			if (this.#closed) {
				socket.destroy();
				return;
			}
			this.#raw.add(socket);
			socket.once('close', () => this.#raw.delete(socket));
		});
		server.on(flavour.acceptEvent, (socket: net.Socket) => {
			if (this.#closed) {
				socket.destroy();
				return;
			}
			this.#adopt(socket, remoteKey(socket.remoteAddress ?? '', socket.remotePort ?? 0), true);
		});
	}

	get port(): number {
		return (this.#flavour.server.address() as net.AddressInfo).port;
	}

	get connectionCount(): number {
		return this.#conns.size;
	}

	/** Whether a connection id is still open. */
	has(connectionId: number): boolean {
		return this.#conns.has(connectionId);
	}

	/**
	 * Writes on `connectionId` when it is still open, else on any open
	 * connection to address:port, else on a new one. Failures go to onError.
	 */
	send(buf: Buffer, dest: { address: string; port: number; connectionId?: number }, onError: (err: Error) => void): void {
		if (this.#closed) {
			onError(new Error(`${this.#flavour.label} transport closed`));
			return;
		}
		let conn = dest.connectionId === undefined ? undefined : this.#conns.get(dest.connectionId);
		conn ??= this.#byRemote.get(remoteKey(dest.address, dest.port));
		conn ??= this.#connect(dest.address, dest.port);
		let reported = false;
		const once = (err: Error): void => {
			if (!reported) {
				reported = true;
				onError(err);
			}
		};
		if (!conn.connected) {
			conn.waiting.push(once);
		}
		// Sockets queue writes made while they are still connecting (or handshaking).
		conn.socket.write(buf, (err) => {
			if (err) {
				once(err);
			}
		});
	}

	close(): Promise<void> {
		if (this.#closed) {
			return Promise.resolve();
		}
		this.#closed = true;
		for (const conn of this.#conns.values()) {
			conn.socket.destroy();
		}
		for (const socket of this.#raw) {
			socket.destroy();
		}
		this.#conns.clear();
		this.#byRemote.clear();
		this.#raw.clear();
		return new Promise((resolve) => this.#flavour.server.close(() => resolve()));
	}

	#connect(address: string, port: number): Connection {
		const socket = this.#flavour.connect(address, port);
		const conn = this.#adopt(socket, remoteKey(address, port), false);
		socket.once(this.#flavour.connectEvent, () => {
			conn.connected = true;
			conn.waiting = [];
		});
		return conn;
	}

	#adopt(socket: net.Socket, key: string, connected: boolean): Connection {
		const conn: Connection = { id: this.#nextId(), socket, key, connected, waiting: [] };
		const label = this.#flavour.label;
		this.#conns.set(conn.id, conn);
		this.#byRemote.set(key, conn);
		socket.setNoDelay(true);
		const framer = new StreamFramer({
			message: (buf) => {
				// A throwing handler must not look like a framing error.
				try {
					this.#handlers.message(buf, {
						address: plainAddress(socket.remoteAddress ?? ''),
						port: socket.remotePort ?? 0,
						connectionId: conn.id,
					});
				} catch (err) {
					log.error({ err }, `${label} message handler threw`);
				}
			},
			ping: () => {
				socket.write('\r\n');
			},
		});
		socket.on('data', (chunk: Buffer) => {
			try {
				framer.push(chunk);
			} catch (err) {
				log.info({ err, connectionId: conn.id }, `closing unframeable ${label} connection`);
				socket.destroy();
			}
		});
		socket.on('error', (err) => {
			log.debug({ err, connectionId: conn.id }, `${label} connection error`);
			for (const cb of conn.waiting) {
				cb(err);
			}
			conn.waiting = [];
		});
		socket.on('close', () => {
			this.#conns.delete(conn.id);
			if (this.#byRemote.get(conn.key) === conn) {
				this.#byRemote.delete(conn.key);
			}
		});
		return conn;
	}
}
