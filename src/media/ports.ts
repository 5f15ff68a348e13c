import dgram from 'node:dgram';
import dns from 'node:dns';
import { isIP } from 'node:net';
import { ConfigError, PortsExhaustedError } from '../common/errors.js';

export interface RtpPortAllocatorOptions {
	/** Lowest port (inclusive); rounded up to even. */
	min: number;
	/** Highest port (inclusive). */
	max: number;
	/** Local address to bind, e.g. '0.0.0.0', '127.0.0.1', '::'. */
	host: string;
}

export interface AllocatedPort {
	socket: dgram.Socket;
	port: number;
}

/**
 * IP literals resolve synchronously. With the default dns.lookup, send() to a
 * literal only queues the datagram for the next tick, so a packet buffer
 * reused right after send() returns goes out with the newer contents; legs
 * reuse their packet buffers. (Per-packet cost is the same either way, ~5 µs.)
 * Names still go through dns.lookup.
 */
function literalLookup(
	address: string,
	family: unknown,
	cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
	const f = isIP(address);
	if (f !== 0) {
		cb(null, address, f);
		return;
	}
	dns.lookup(address, family as number, cb);
}

/**
 * Hands out UDP sockets bound to even ports in [min, max] (RFC 3550 §11: RTP
 * on even ports; RTCP is multiplexed on the same port, RFC 5761, so the odd
 * port is left alone). The search starts after the last port handed out
 * (round robin, so a just-released port is not reused at once and late
 * packets of an old call do not reach a new one), skips ports this allocator
 * holds and ports another process has bound (EADDRINUSE).
 */
export class RtpPortAllocator {
	readonly min: number;
	readonly max: number;
	readonly host: string;
	readonly #type: 'udp4' | 'udp6';
	readonly #count: number;
	readonly #used = new Set<number>();
	#next = 0;

	constructor({ min, max, host }: RtpPortAllocatorOptions) {
		if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
			throw new ConfigError(`RTP port range ${min}-${max} is invalid`);
		}
		const first = min + (min & 1);
		if (first > max) {
			throw new ConfigError(`RTP port range ${min}-${max} holds no even port`);
		}
		this.min = first;
		this.max = max;
		this.host = host;
		this.#type = isIP(host) === 6 ? 'udp6' : 'udp4';
		this.#count = ((max - first) >> 1) + 1;
	}

	/** Ports currently handed out. */
	get inUse(): number {
		return this.#used.size;
	}

	/** Even ports in the range. */
	get capacity(): number {
		return this.#count;
	}

	async allocate(): Promise<AllocatedPort> {
		for (let tried = 0; tried < this.#count; tried++) {
			const i = this.#next;
			this.#next = (i + 1) % this.#count;
			const port = this.min + i * 2;
			if (this.#used.has(port)) {
				continue;
			}
			// Reserved before the await so concurrent allocate() calls never race for it.
			this.#used.add(port);
			try {
				const socket = await this.#bind(port);
				return { socket, port };
			} catch (error) {
				this.#used.delete(port);
				const code = (error as NodeJS.ErrnoException).code;
				if (code !== 'EADDRINUSE' && code !== 'EACCES') {
					throw error;
				}
			}
		}
		throw new PortsExhaustedError(`no free RTP port in ${this.min}-${this.max} on ${this.host}`);
	}

	/** Returns a port to the pool (its socket is closed by the owner). Idempotent. */
	release(port: number): void {
		this.#used.delete(port);
	}

	#bind(port: number): Promise<dgram.Socket> {
		return new Promise((resolve, reject) => {
			const socket = dgram.createSocket({ type: this.#type, lookup: literalLookup });
			const onError = (error: Error): void => {
				socket.close();
				reject(error);
			};
			socket.once('error', onError);
			socket.bind({ port, address: this.host, exclusive: true }, () => {
				socket.off('error', onError);
				resolve(socket);
			});
		});
	}
}
