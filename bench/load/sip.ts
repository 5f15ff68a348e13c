/**
 * Just enough SIP text for the load generator's user agents: build INVITE,
 * ACK, BYE and responses, and parse what comes back. It imports nothing from
 * src/ so the bench exercises the server's SIP stack rather than sharing it.
 */
import { randomBytes } from 'node:crypto';

export interface SipMessage {
	isRequest: boolean;
	method: string;
	status: number;
	reason: string;
	requestUri: string;
	/** Lower-case long header names → values in order. */
	headers: Map<string, string[]>;
	body: string;
}

const COMPACT: Record<string, string> = {
	i: 'call-id',
	f: 'from',
	t: 'to',
	v: 'via',
	m: 'contact',
	l: 'content-length',
	c: 'content-type',
	k: 'supported',
	s: 'subject',
	e: 'content-encoding',
};

/** Parses one datagram; null when it is not a SIP message. */
export function parseSip(text: string): SipMessage | null {
	const headEnd = text.indexOf('\r\n\r\n');
	const head = headEnd >= 0 ? text.slice(0, headEnd) : text;
	const body = headEnd >= 0 ? text.slice(headEnd + 4) : '';
	const lines = head.split('\r\n');
	const first = lines[0] ?? '';
	const msg: SipMessage = { isRequest: false, method: '', status: 0, reason: '', requestUri: '', headers: new Map(), body };
	if (first.startsWith('SIP/2.0 ')) {
		const m = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(first);
		if (!m) {
			return null;
		}
		msg.status = Number(m[1]);
		msg.reason = m[2] ?? '';
	} else {
		const m = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(first);
		if (!m) {
			return null;
		}
		msg.isRequest = true;
		msg.method = m[1]!;
		msg.requestUri = m[2]!;
	}
	let last = '';
	for (let i = 1; i < lines.length; i++) {
		const line = lines[i]!;
		if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
			const vals = msg.headers.get(last)!;
			vals[vals.length - 1] += ' ' + line.trim();
			continue;
		}
		const colon = line.indexOf(':');
		if (colon <= 0) {
			continue;
		}
		let name = line.slice(0, colon).trim().toLowerCase();
		name = COMPACT[name] ?? name;
		const value = line.slice(colon + 1).trim();
		const list = msg.headers.get(name);
		if (list) {
			list.push(value);
		} else {
			msg.headers.set(name, [value]);
		}
		last = name;
	}
	return msg;
}

export function header(msg: SipMessage, name: string): string | undefined {
	return msg.headers.get(name)?.[0];
}

/** The tag parameter of a From/To value. */
export function tagOf(value: string | undefined): string {
	const m = value ? /;\s*tag=([^;>\s]+)/i.exec(value) : null;
	return m ? m[1]! : '';
}

/** The URI inside <...> of a Contact/Record-Route value, or the bare value. */
export function uriOf(value: string): string {
	const m = /<([^>]+)>/.exec(value);
	return (m ? m[1]! : value.split(';')[0]!).trim();
}

export function randomToken(bytes = 8): string {
	return randomBytes(bytes).toString('hex');
}

export function newBranch(): string {
	return `z9hG4bK${randomToken(8)}`;
}

export interface SdpOffer {
	host: string;
	port: number;
	sessionId: number;
	pt: number;
	rtpmap: string;
	fmtp?: string;
	telephoneEventPt: number;
}

export function buildSdp(o: SdpOffer): string {
	const lines = [
		'v=0',
		`o=bench ${o.sessionId} 1 IN IP4 ${o.host}`,
		's=bench',
		`c=IN IP4 ${o.host}`,
		't=0 0',
		`m=audio ${o.port} RTP/AVP ${o.pt} ${o.telephoneEventPt}`,
		`a=rtpmap:${o.pt} ${o.rtpmap}`,
	];
	if (o.fmtp) {
		lines.push(`a=fmtp:${o.pt} ${o.fmtp}`);
	}
	lines.push(`a=rtpmap:${o.telephoneEventPt} telephone-event/8000`, `a=fmtp:${o.telephoneEventPt} 0-15`, 'a=ptime:20', 'a=sendrecv', '');
	return lines.join('\r\n');
}

export interface SdpAnswer {
	host: string;
	port: number;
	/** Payload types on the m= line, in order. */
	payloads: number[];
	/** rtpmap encoding names by payload type (lower case). */
	encodings: Map<number, string>;
}

export function parseSdp(sdp: string): SdpAnswer | null {
	let host = '';
	let port = -1;
	let payloads: number[] = [];
	const encodings = new Map<number, string>();
	for (const raw of sdp.split(/\r?\n/)) {
		const line = raw.trim();
		if (line.startsWith('c=IN IP4 ')) {
			host = line.slice(9).split('/')[0]!.trim();
		} else if (line.startsWith('m=audio ')) {
			const parts = line.split(/\s+/);
			port = Number(parts[1]);
			payloads = parts.slice(3).map(Number).filter((n) => Number.isInteger(n));
		} else if (line.startsWith('a=rtpmap:')) {
			const m = /^a=rtpmap:(\d+)\s+([^/]+)/.exec(line);
			if (m) {
				encodings.set(Number(m[1]), m[2]!.toLowerCase());
			}
		}
	}
	if (!host || !(port > 0)) {
		return null;
	}
	return { host, port, payloads, encodings };
}

/** Start line + headers + body, with Content-Length. */
export function buildMessage(startLine: string, headers: Array<readonly [string, string]>, body = ''): string {
	const out = [startLine];
	for (const [k, v] of headers) {
		out.push(`${k}: ${v}`);
	}
	out.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body);
	return out.join('\r\n');
}

/** A response to `req` echoing Via, From, To (with our tag if it has none), Call-ID, CSeq. */
export function buildResponse(req: SipMessage, status: number, reason: string, toTag: string, extra: Array<readonly [string, string]> = [], body = ''): string {
	const headers: Array<readonly [string, string]> = [];
	for (const v of req.headers.get('via') ?? []) {
		headers.push(['Via', v]);
	}
	headers.push(['From', header(req, 'from') ?? '']);
	let to = header(req, 'to') ?? '';
	if (!tagOf(to) && toTag) {
		to += `;tag=${toTag}`;
	}
	headers.push(['To', to], ['Call-ID', header(req, 'call-id') ?? ''], ['CSeq', header(req, 'cseq') ?? ''], ...extra);
	return buildMessage(`SIP/2.0 ${status} ${reason}`, headers, body);
}
