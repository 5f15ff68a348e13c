/**
 * SIP over TCP (RFC 3261 §18): plain sockets under the shared stream
 * transport, which frames, numbers connections and reuses them.
 */
import net from 'node:net';
import { idCounter, type StreamHandlers, StreamTransport } from './stream.js';

export type { StreamHandlers as TcpHandlers, StreamSource as TcpSource } from './stream.js';

/** Listens on host:port; rejects (e.g. EADDRINUSE) without leaving a socket. */
export function listenTcp(host: string, port: number, handlers: StreamHandlers, nextId: () => number = idCounter()): Promise<StreamTransport> {
	return StreamTransport.listen(
		{
			label: 'TCP',
			server: net.createServer(),
			acceptEvent: 'connection',
			connect: (address, p) => net.connect({ host: address, port: p }),
			connectEvent: 'connect',
		},
		host,
		port,
		handlers,
		nextId,
	);
}
