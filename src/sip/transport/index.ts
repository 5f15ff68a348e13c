/**
 * The SIP transport layer (RFC 3261 §18): UDP and TCP on one port number, TLS
 * and WebSocket (RFC 7118, ws and wss) on ports of their own, parsing on
 * receipt, received/rport stamping (RFC 3581), 400 for requests too broken to
 * process, and sending to an address or back on a connection. Connection ids
 * are unique across all connection-oriented transports of one layer.
 */
import { InvalidStateError, SipParseError, UnsupportedError } from '../../common/errors.js';
import { TypedEmitter } from '../../common/events.js';
import { childLogger } from '../../common/logger.js';
import { createResponse, parseMessage, serializeMessage } from '../message/index.js';
import type { SipAddress, SipMessage, SipRequest, SipResponse } from '../message/types.js';
import { type CertificatePair, resolveCertificate } from './certificate.js';
import { type StreamHandlers, type StreamTransport, idCounter } from './stream.js';
import { listenTcp } from './tcp.js';
import { listenTls, type TlsOutgoingOptions } from './tls.js';
import { UdpTransport } from './udp.js';
import { responseDestination, stampReceived } from './via.js';
import { WsTransport } from './ws.js';

export { type CertificatePair, devCertificate, type DevCertificateOptions, resolveCertificate, selfSignedCertificate } from './certificate.js';
export { FramingError, MAX_STREAM_MESSAGE, StreamFramer } from './framing.js';
export { NoConnectionError, SIP_SUBPROTOCOL } from './ws.js';
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
	/** SIP over TLS on a port of its own (0 picks one). */
	tls?: TlsListenOptions;
	/** SIP over plain WebSocket (RFC 7118) on a port of its own. */
	ws?: WsListenOptions;
	/** SIP over secure WebSocket, with tls's certificate unless it has its own. */
	wss?: WssListenOptions;
	/** Where a development certificate is cached; default `<os tmpdir>/confsrv`. */
	devCertDir?: string;
}

export interface TlsListenOptions extends TlsOutgoingOptions {
	port: number;
	/**
	 * PEM certificate (chain) and private key. Give both, or neither for a
	 * cached self-signed development pair (logged as a warning).
	 */
	cert?: string | Buffer;
	key?: string | Buffer;
}

export interface WsListenOptions {
	port: number;
	/** Only upgrade requests for this path (e.g. '/ws'); default any path. */
	path?: string;
}

export interface WssListenOptions extends WsListenOptions {
	/** Default tls.cert and tls.key, else the development pair. */
	cert?: string | Buffer;
	key?: string | Buffer;
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
	#tcp: StreamTransport | undefined;
	#tls: StreamTransport | undefined;
	#ws: WsTransport | undefined;
	#wss: WsTransport | undefined;
	readonly #nextId = idCounter();
	#closed = false;

	/**
	 * Opens every transport asked for; when one fails (a taken port, a bad
	 * certificate) the ones already open are closed and the error is thrown.
	 */
	static async listen(opts: ListenOptions): Promise<TransportLayer> {
		const udp = opts.udp ?? true;
		const tcp = opts.tcp ?? true;
		if (!udp && !tcp && !opts.tls && !opts.ws && !opts.wss) {
			throw new TypeError('at least one transport must be enabled');
		}
		const layer = new TransportLayer(opts.host);
		try {
			if (udp || tcp) {
				await layer.#bind(opts.port, udp, tcp);
			}
			await layer.#bindSecondary(opts);
		} catch (err) {
			await layer.close();
			throw err;
		}
		return layer;
	}

	private constructor(host: string) {
		super();
		this.#host = host;
	}

	get host(): string {
		return this.#host;
	}

	/** The UDP/TCP port; with neither, the first of tlsPort, wsPort, wssPort. */
	get port(): number {
		return this.#port;
	}

	get tlsPort(): number | undefined {
		return this.#tls?.port;
	}

	get wsPort(): number | undefined {
		return this.#ws?.port;
	}

	get wssPort(): number | undefined {
		return this.#wss?.port;
	}

	/** The local port of a transport (for a Via sent-by or a Contact), undefined when not listening. */
	portOf(transport: SipAddress['transport']): number | undefined {
		switch (transport) {
			case 'udp': {
				return this.#udp?.port;
			}
			case 'tcp': {
				return this.#tcp?.port;
			}
			case 'tls': {
				return this.#tls?.port;
			}
			case 'ws': {
				return this.#ws?.port;
			}
			case 'wss': {
				return this.#wss?.port;
			}
		}
	}

	get closed(): boolean {
		return this.#closed;
	}

	/** Open TCP, TLS and WebSocket connections (accepted and outgoing). */
	get connectionCount(): number {
		return (
			(this.#tcp?.connectionCount ?? 0) + (this.#tls?.connectionCount ?? 0) + (this.#ws?.connectionCount ?? 0) + (this.#wss?.connectionCount ?? 0)
		);
	}

	/**
	 * Serializes and sends by dest.transport. UDP goes to address:port; TCP
	 * and TLS go on dest.connectionId while it is open, else on a connection
	 * to address:port (reused or new); WS and WSS go on dest.connectionId or
	 * an open connection from address:port, and fail with NoConnectionError
	 * otherwise. Never throws: failures go to onError, or to the 'error' event
	 * when no callback is given, always asynchronously.
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
		} else if (dest.transport === 'tls' && this.#tls) {
			this.#tls.send(buf, dest, fail);
		} else if (dest.transport === 'ws' && this.#ws) {
			this.#ws.send(buf, dest, fail);
		} else if (dest.transport === 'wss' && this.#wss) {
			this.#wss.send(buf, dest, fail);
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
		await Promise.all([this.#udp?.close(), this.#tcp?.close(), this.#tls?.close(), this.#ws?.close(), this.#wss?.close()]);
	}

	async #bindSecondary(opts: ListenOptions): Promise<void> {
		const handlers = (transport: SipAddress['transport']): StreamHandlers => ({
			message: (buf, src) => this.#receive(buf, { transport, ...src }),
		});
		let creds: CertificatePair | undefined;
		const certificate = async (own: Partial<CertificatePair>): Promise<CertificatePair> => {
			if (own.cert !== undefined || own.key !== undefined) {
				return resolveCertificate(own);
			}
			creds ??= await resolveCertificate(pick(opts.tls ?? {}), opts.devCertDir === undefined ? {} : { dir: opts.devCertDir });
			return creds;
		};
		if (opts.tls) {
			const outgoing: TlsOutgoingOptions = {};
			if (opts.tls.rejectUnauthorized !== undefined) {
				outgoing.rejectUnauthorized = opts.tls.rejectUnauthorized;
			}
			if (opts.tls.ca !== undefined) {
				outgoing.ca = opts.tls.ca;
			}
			this.#tls = await listenTls(this.#host, opts.tls.port, await certificate({}), handlers('tls'), this.#nextId, outgoing);
		}
		if (opts.ws) {
			this.#ws = await WsTransport.listen(this.#host, opts.ws.port, wsOptions(opts.ws), handlers('ws'), this.#nextId);
		}
		if (opts.wss) {
			const tls = await certificate(pick(opts.wss));
			this.#wss = await WsTransport.listen(this.#host, opts.wss.port, { ...wsOptions(opts.wss), tls }, handlers('wss'), this.#nextId);
		}
		if (!this.#udp && !this.#tcp) {
			this.#port = this.#tls?.port ?? this.#ws?.port ?? this.#wss?.port ?? 0;
		}
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
					? await listenTcp(
							this.#host,
							udp?.port ?? port,
							{ message: (buf, src) => this.#receive(buf, { transport: 'tcp', ...src }) },
							this.#nextId,
						)
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

/** The cert and key of an options object, leaving out absent ones. */
function pick(o: { cert?: string | Buffer; key?: string | Buffer }): Partial<CertificatePair> {
	const out: Partial<CertificatePair> = {};
	if (o.cert !== undefined) {
		out.cert = o.cert;
	}
	if (o.key !== undefined) {
		out.key = o.key;
	}
	return out;
}

function wsOptions(o: WsListenOptions): { path?: string } {
	return o.path === undefined ? {} : { path: o.path };
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
