/**
 * Top-Via handling shared by the transport (stamping received/rport on
 * receipt, RFC 3261 §18.2.1 and RFC 3581 §4) and the transactions (where a
 * response goes, §18.2.2). Pure functions, no I/O.
 */
import { parseVia } from '../message/index.js';
import type { SipAddress, SipMessage, SipRequest, Via } from '../message/types.js';

/** Default port of a transport when a Via or URI leaves it out. */
export function defaultPort(transport: string): number {
	const t = transport.toLowerCase();
	return t === 'tls' || t === 'wss' ? 5061 : 5060;
}

/**
 * The top Via of a message, parsing only the first Via line (lower Vias are
 * other hops' business). Throws SipParseError when it is malformed.
 */
export function topVia(msg: SipMessage): Via | undefined {
	const line = msg.headers.get('via');
	return line === undefined ? undefined : parseVia(line)[0];
}

/** Whether the transport itself retransmits (no SIP-level retransmissions). */
export function isReliable(transport: SipAddress['transport']): boolean {
	return transport !== 'udp';
}

/** The first comma-separated value of a header value (e.g. the top Via of a line). */
export function firstHeaderValue(value: string): string {
	return value.slice(0, firstValueSpan(value)[1]).trim();
}

/** [start, end) of the first comma-separated value in a header value. */
function firstValueSpan(value: string): [number, number] {
	let quoted = false;
	for (let i = 0; i < value.length; i++) {
		const c = value[i];
		if (c === '"') {
			quoted = !quoted;
		} else if (c === '\\' && quoted) {
			i++;
		} else if (c === ',' && !quoted) {
			return [0, i];
		}
	}
	return [0, value.length];
}

function hostEquals(viaHost: string, address: string): boolean {
	const h = viaHost.startsWith('[') ? viaHost.slice(1, -1) : viaHost;
	return h.toLowerCase() === address.toLowerCase();
}

/**
 * §18.2.1 + RFC 3581: adds `received` to the top Via when its host is not the
 * packet's source address, and fills an empty `rport` with the source port
 * (which also demands `received`). Rewrites only the header text, so the
 * Via goes back verbatim in responses. Returns false when there is no
 * readable top Via.
 */
export function stampReceived(req: SipRequest, source: SipAddress): boolean {
	const entry = req.headers.entries.find(([k]) => k === 'via');
	if (!entry) {
		return false;
	}
	let top: Via | undefined;
	try {
		top = topVia(req);
	} catch {
		return false;
	}
	if (!top) {
		return false;
	}
	const emptyRport = 'rport' in top.params && !top.params['rport'];
	const needReceived = emptyRport || !hostEquals(top.host, source.address);
	if (!emptyRport && !needReceived) {
		return true;
	}
	const [, end] = firstValueSpan(entry[1]);
	let seg = entry[1].slice(0, end).trimEnd();
	const rest = entry[1].slice(end);
	if (emptyRport) {
		seg = seg.replace(/;[ \t]*rport(?:[ \t]*=[ \t]*)?(?=[ \t]*(?:;|$))/i, `;rport=${source.port}`);
	}
	if (needReceived) {
		seg = seg.replace(/;[ \t]*received[ \t]*=[ \t]*[^;]*/i, '') + `;received=${source.address}`;
	}
	entry[1] = seg + rest;
	return true;
}

/**
 * Where a response to `req` goes (§18.2.2, RFC 3581 §4). Reliable transports:
 * the connection the request came on, falling back to received (or the Via
 * host) and the sent-by port. UDP: maddr, else received with rport (or the
 * sent-by port), else the Via host and port. Without a readable Via the
 * packet's source is used.
 */
export function responseDestination(req: SipRequest): SipAddress {
	const src = req.source;
	let top: Via | undefined;
	try {
		top = topVia(req);
	} catch {
		top = undefined;
	}
	if (!top) {
		if (!src) {
			throw new TypeError('request has neither a Via nor a source address');
		}
		return { ...src };
	}
	const transport = src?.transport ?? (top.transport.toLowerCase() as SipAddress['transport']);
	const viaPort = top.port ?? defaultPort(top.transport);
	const received = top.params['received'] ?? undefined;
	const host = top.host.startsWith('[') ? top.host.slice(1, -1) : top.host;
	if (isReliable(transport)) {
		const dest: SipAddress = { transport, address: received ?? src?.address ?? host, port: viaPort };
		if (src?.connectionId !== undefined) {
			dest.connectionId = src.connectionId;
		}
		return dest;
	}
	const maddr = top.params['maddr'];
	if (maddr) {
		return { transport, address: maddr, port: viaPort };
	}
	if (received) {
		const rport = Number(top.params['rport']);
		return { transport, address: received, port: Number.isInteger(rport) && rport > 0 ? rport : viaPort };
	}
	return { transport, address: host, port: viaPort };
}
