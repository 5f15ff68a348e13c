/**
 * SIP over UDP: one datagram is one whole message (RFC 3261 §18.3 needs no
 * framing there), so this only binds, receives and sends.
 */
import dgram from 'node:dgram';
import net from 'node:net';

export interface UdpSource {
	address: string;
	port: number;
}

export class UdpTransport {
	readonly #socket: dgram.Socket;
	#closed = false;

	/** Binds to host:port (0 = ephemeral). Every datagram goes to `onDatagram`. */
	static bind(host: string, port: number, onDatagram: (buf: Buffer, src: UdpSource) => void, onError: (err: Error) => void): Promise<UdpTransport> {
		const socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
		return new Promise((resolve, reject) => {
			const fail = (err: Error): void => {
				socket.close();
				reject(err);
			};
			socket.once('error', fail);
			socket.bind(port, host, () => {
				socket.off('error', fail);
				// Runtime socket errors are reported, never thrown: a stray ICMP
				// error must not take the server down.
				socket.on('error', onError);
				socket.on('message', (buf, rinfo) => onDatagram(buf, { address: rinfo.address, port: rinfo.port }));
				resolve(new UdpTransport(socket));
			});
		});
	}

	private constructor(socket: dgram.Socket) {
		this.#socket = socket;
	}

	get port(): number {
		return this.#socket.address().port;
	}

	send(buf: Buffer, address: string, port: number, onError: (err: Error) => void): void {
		if (this.#closed) {
			onError(new Error('UDP transport closed'));
			return;
		}
		this.#socket.send(buf, port, address, (err) => {
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
		return new Promise((resolve) => this.#socket.close(() => resolve()));
	}
}
