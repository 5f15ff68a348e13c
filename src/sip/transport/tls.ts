/**
 * SIP over TLS (RFC 3261 §18, §26.2; transport token TLS, default port 5061):
 * a node:tls server and outgoing node:tls connections under the shared stream
 * transport, so framing, connection ids and reuse work exactly as on TCP.
 */
import net from 'node:net';
import tls from 'node:tls';
import { childLogger } from '../../common/logger.js';
import type { CertificatePair } from './certificate.js';
import { idCounter, type StreamHandlers, StreamTransport } from './stream.js';

const log = childLogger({ mod: 'sip.tls' });

export interface TlsOutgoingOptions {
	/**
	 * Verify the certificate of servers we connect to (default true). Peers
	 * addressed by IP need the IP in their certificate's subjectAltName.
	 */
	rejectUnauthorized?: boolean;
	/** Extra trusted CAs (PEM) for outgoing connections; default Node's bundle. */
	ca?: string | Buffer | Array<string | Buffer>;
}

/** Listens on host:port with `creds`; rejects (e.g. EADDRINUSE) without leaving a socket. */
export function listenTls(
	host: string,
	port: number,
	creds: CertificatePair,
	handlers: StreamHandlers,
	nextId: () => number = idCounter(),
	outgoing: TlsOutgoingOptions = {},
): Promise<StreamTransport> {
	// Throws here, before anything listens, when the PEM is unusable.
	const server = tls.createServer({ cert: creds.cert, key: creds.key, minVersion: 'TLSv1.2' });
	server.on('tlsClientError', (err, socket) => {
		log.debug({ err, address: socket.remoteAddress, port: socket.remotePort }, 'TLS handshake failed');
	});
	const connectOpts: tls.ConnectionOptions = {
		// Our certificate doubles as a client certificate for peers that ask.
		cert: creds.cert,
		key: creds.key,
		minVersion: 'TLSv1.2',
		rejectUnauthorized: outgoing.rejectUnauthorized ?? true,
	};
	if (outgoing.ca !== undefined) {
		connectOpts.ca = outgoing.ca;
	}
	return StreamTransport.listen(
		{
			label: 'TLS',
			server,
			acceptEvent: 'secureConnection',
			connect: (address, p) =>
				tls.connect({
					...connectOpts,
					host: address,
					port: p,
					// SNI carries host names only (RFC 6066 §3).
					...(net.isIP(address) ? {} : { servername: address }),
				}),
			connectEvent: 'secureConnect',
		},
		host,
		port,
		handlers,
		nextId,
	);
}
