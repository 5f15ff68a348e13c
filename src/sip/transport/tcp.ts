/**
 * SIP over TCP: a listening server plus outgoing connections, each with its
 * own stream framer. Connections get small integer ids so a response can go
 * back on the connection its request came on (RFC 3261 §18.2.2); a stream
 * that cannot be framed is closed, since its next byte has no known meaning.
 */
import net from 'node:net';
import { childLogger } from '../../common/logger.js';
import { StreamFramer } from './framing.js';

const log = childLogger({ mod: 'sip.tcp' });

export interface TcpSource {
	address: string;
	port: number;
	connectionId: number;
}

export interface TcpHandlers {
	message(buf: Buffer, src: TcpSource): void;
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
function plainAddress(address: string): string {
	return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

function remoteKey(address: string, port: number): string {
	return `${plainAddress(address).toLowerCase()}|${port}`;
}

export class TcpTransport {
	readonly #server: net.Server;
	readonly #handlers: TcpHandlers;
	readonly #conns = new Map<number, Connection>();
	// Connections by remote address and port, for reuse (§18.1.1).
	readonly #byRemote = new Map<string, Connection>();
	#nextId = 1;
	#closed = false;

	/** Listens on host:port; rejects (e.g. EADDRINUSE) without leaving a socket. */
	static listen(host: string, port: number, handlers: TcpHandlers): Promise<TcpTransport> {
		const server = net.createServer();
		return new Promise((resolve, reject) => {
			const fail = (err: Error): void => {
				server.close();
				reject(err);
			};
			server.once('error', fail);
			server.listen({ host, port, exclusive: true }, () => {
				server.off('error', fail);
				resolve(new TcpTransport(server, handlers));
			});
		});
	}

	private constructor(server: net.Server, handlers: TcpHandlers) {
		this.#server = server;
		this.#handlers = handlers;
		server.on('error', (err) => log.warn({ err }, 'TCP server error'));
		server.on('connection', (socket) => {
			if (this.#closed) {
				socket.destroy();
				return;
			}
			this.#adopt(socket, remoteKey(socket.remoteAddress ?? '', socket.remotePort ?? 0), true);
		});
	}

	get port(): number {
		return (this.#server.address() as net.AddressInfo).port;
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
			onError(new Error('TCP transport closed'));
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
		// net.Socket queues writes made while it is still connecting.
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
		this.#conns.clear();
		this.#byRemote.clear();
		return new Promise((resolve) => this.#server.close(() => resolve()));
	}

	#connect(address: string, port: number): Connection {
		const socket = net.connect({ host: address, port });
		const conn = this.#adopt(socket, remoteKey(address, port), false);
		socket.once('connect', () => {
			conn.connected = true;
			conn.waiting = [];
		});
		return conn;
	}

	#adopt(socket: net.Socket, key: string, connected: boolean): Connection {
		const conn: Connection = { id: this.#nextId++, socket, key, connected, waiting: [] };
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
					log.error({ err }, 'TCP message handler threw');
				}
			},
			ping: () => {
				socket.write('\r\n');
			},
		});
		socket.on('data', (chunk) => {
			try {
				framer.push(chunk);
			} catch (err) {
				log.info({ err, connectionId: conn.id }, 'closing unframeable TCP connection');
				socket.destroy();
			}
		});
		socket.on('error', (err) => {
			log.debug({ err, connectionId: conn.id }, 'TCP connection error');
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
