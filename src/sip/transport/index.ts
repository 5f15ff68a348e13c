/**
 * The SIP transport layer (RFC 3261 §18): UDP and TCP on one port number,
 * parsing on receipt, received/rport stamping (RFC 3581), 400 for requests too
 * broken to process, and sending to an address or back on a connection.
 */
import { InvalidStateError, SipParseError, UnsupportedError } from '../../common/errors.js';
import { TypedEmitter } from '../../common/events.js';
import { childLogger } from '../../common/logger.js';
import { createResponse, parseMessage, serializeMessage } from '../message/index.js';
import type { SipAddress, SipMessage, SipRequest, SipResponse } from '../message/types.js';
import { TcpTransport } from './tcp.js';
import { UdpTransport } from './udp.js';
import { responseDestination, stampReceived } from './via.js';

export { FramingError, MAX_STREAM_MESSAGE, StreamFramer } from './framing.js';
export { defaultPort, firstHeaderValue, isReliable, responseDestination, stampReceived, topVia } from './via.js';

const log = childLogger({ mod: 'sip.transport' });

export interface ListenOptions {
	host: string;
	/** 0 picks one free port number for both UDP and TCP. */
	port: number;
	/** Default true. */
	udp?: boolean;
	/** Default true. */
	tcp?: boolean;
}

export type TransportEvents = {
	message: [SipMessage];
	error: [Error];
};

// How often to look for a port number free on both UDP and TCP.
const PORT_ATTEMPTS = 20;

export class TransportLayer extends TypedEmitter<TransportEvents> {
	readonly #host: string;
	#port = 0;
	#udp: UdpTransport | undefined;
	#tcp: TcpTransport | undefined;
	#closed = false;

	static async listen(opts: ListenOptions): Promise<TransportLayer> {
		const udp = opts.udp ?? true;
		const tcp = opts.tcp ?? true;
		if (!udp && !tcp) {
			throw new TypeError('at least one of udp and tcp must be enabled');
		}
		const layer = new TransportLayer(opts.host);
		await layer.#bind(opts.port, udp, tcp);
		return layer;
	}

	private constructor(host: string) {
		super();
		this.#host = host;
	}

	get host(): string {
		return this.#host;
	}

	get port(): number {
		return this.#port;
	}

	get closed(): boolean {
		return this.#closed;
	}

	/** Open TCP connections (accepted and outgoing). */
	get connectionCount(): number {
		return this.#tcp?.connectionCount ?? 0;
	}

	/**
	 * Serializes and sends. UDP goes to address:port; TCP goes on
	 * dest.connectionId while it is open, else on a connection to address:port
	 * (reused or new). Never throws: failures go to onError, or to the 'error'
	 * event when no callback is given, always asynchronously.
	 */
	send(msg: SipMessage, dest: SipAddress, onError?: (err: Error) => void): void {
		const fail = (err: Error): void => {
			if (onError) {
				onError(err);
			} else {
				this.#report(err);
			}
		};
		const failLater = (err: Error): void => {
			process.nextTick(fail, err);
		};
		if (this.#closed) {
			failLater(new InvalidStateError('transport layer closed'));
			return;
		}
		let buf: Buffer;
		try {
			buf = serializeMessage(msg);
		} catch (err) {
			failLater(err as Error);
			return;
		}
		if (dest.transport === 'udp' && this.#udp) {
			this.#udp.send(buf, dest.address, dest.port, fail);
		} else if (dest.transport === 'tcp' && this.#tcp) {
			this.#tcp.send(buf, dest, fail);
		} else {
			failLater(new UnsupportedError(`not listening on ${dest.transport}`));
		}
	}

	/** Sends a response where §18.2.2 says it goes for `req`. */
	sendResponse(res: SipResponse, req: SipRequest, onError?: (err: Error) => void): void {
		let dest: SipAddress;
		try {
			dest = responseDestination(req);
		} catch (err) {
			const e = err as Error;
			process.nextTick(() => (onError ? onError(e) : this.#report(e)));
			return;
		}
		this.send(res, dest, onError);
	}

	async close(): Promise<void> {
		if (this.#closed) {
			return;
		}
		this.#closed = true;
		await Promise.all([this.#udp?.close(), this.#tcp?.close()]);
	}

	async #bind(port: number, useUdp: boolean, useTcp: boolean): Promise<void> {
		// With port 0 the UDP port is picked first and TCP must get the same
		// number; when it is taken, start over with another UDP port.
		const attempts = port === 0 && useUdp && useTcp ? PORT_ATTEMPTS : 1;
		for (let i = 0; ; i++) {
			let udp: UdpTransport | undefined;
			try {
				if (useUdp) {
					udp = await UdpTransport.bind(
						this.#host,
						port,
						(buf, src) => this.#receive(buf, { transport: 'udp', address: src.address, port: src.port }),
						(err) => this.#report(err),
					);
				}
				const tcp = useTcp
					? await TcpTransport.listen(this.#host, udp?.port ?? port, {
							message: (buf, src) => this.#receive(buf, { transport: 'tcp', ...src }),
						})
					: undefined;
				this.#udp = udp;
				this.#tcp = tcp;
				this.#port = tcp?.port ?? udp?.port ?? port;
				return;
			} catch (err) {
				await udp?.close();
				if (i + 1 >= attempts || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
					throw err;
				}
			}
		}
	}

	#receive(buf: Buffer, source: SipAddress): void {
		try {
			if (this.#closed || isBlank(buf)) {
				return;
			}
			let msg: SipMessage;
			try {
				msg = parseMessage(buf);
			} catch (err) {
				this.#rejectMalformed(err, source);
				return;
			}
			msg.source = source;
			if (msg.kind === 'request') {
				stampReceived(msg, source);
			}
			this.safeEmit('message', msg);
		} catch (err) {
			this.#report(err as Error);
		}
	}

	/**
	 * A request the parser could read far enough to answer gets a 400 whose
	 * reason says what is wrong; anything else (responses, garbage) is dropped
	 * as §16.3/§18.1.2 tell, since there is nobody sensible to answer.
	 */
	#rejectMalformed(err: unknown, source: SipAddress): void {
		const req = err instanceof SipParseError ? err.partial : undefined;
		if (!req || req.method === 'ACK') {
			log.debug({ err, source }, 'dropped malformed message');
			return;
		}
		req.source = source;
		stampReceived(req, source);
		const reason = (err as Error).message.replace(/[\r\n]+/g, ' ').trim().slice(0, 200) || 'Bad Request';
		let res: SipResponse;
		try {
			res = createResponse(req, 400, reason);
		} catch (e) {
			log.debug({ err: e, source }, 'malformed request cannot be answered');
			return;
		}
		this.sendResponse(res, req, (e) => log.debug({ err: e }, 'could not send 400'));
	}

	#report(err: Error): void {
		if (this.listenerCount('error') > 0) {
			this.safeEmit('error', err);
		} else {
			log.warn({ err }, 'transport error');
		}
	}
}

/** Keep-alive datagrams (CRLF, whitespace) carry no message. */
function isBlank(buf: Buffer): boolean {
	for (const b of buf) {
		if (b !== 0x0d && b !== 0x0a && b !== 0x20 && b !== 0x09 && b !== 0x00) {
			return false;
		}
	}
	return true;
}
