/**
 * Minimal SIP and SDP text handling for the test user agent. Written for the
 * tests, independent of src/sip, so tests catch bugs in the server's stack
 * instead of sharing them. It is lenient on purpose (it must read whatever
 * the server sends, and tests assert on the details).
 */
import { randomBytes } from 'node:crypto';

/** Compact header forms (RFC 3261 §7.3.3, RFC 3515, RFC 3265, RFC 4028). */
const COMPACT: Record<string, string> = {
	i: 'call-id',
	m: 'contact',
	e: 'content-encoding',
	l: 'content-length',
	c: 'content-type',
	f: 'from',
	s: 'subject',
	k: 'supported',
	t: 'to',
	v: 'via',
	r: 'refer-to',
	b: 'referred-by',
	o: 'event',
	u: 'allow-events',
	x: 'session-expires',
};

/** Headers whose comma-separated values are separate entries (getAll splits them). */
const LIST_HEADERS = new Set(['via', 'route', 'record-route', 'contact', 'allow', 'supported', 'require', 'proxy-require', 'unsupported', 'accept']);

/** Lower-case full header name for a (possibly compact) name. */
export function canonicalHeaderName(name: string): string {
	const n = name.trim().toLowerCase();
	return COMPACT[n] ?? n;
}

export interface SipRemote {
	address: string;
	port: number;
}

/** A parsed SIP message (request or response). */
export class SipMessage {
	/** true for requests, false for responses. */
	readonly isRequest: boolean;
	/** Request method ('' for responses). */
	readonly method: string;
	/** Request-URI ('' for responses). */
	readonly uri: string;
	/** Response status (0 for requests). */
	readonly status: number;
	/** Response reason phrase ('' for requests). */
	readonly reason: string;
	/** Headers in order, names as received. */
	readonly headers: ReadonlyArray<readonly [string, string]>;
	/** Body, cut to Content-Length when it is present. */
	readonly body: string;
	/** The whole datagram as received. */
	readonly raw: string;
	/** Where it came from (set for messages received by a socket). */
	readonly remote: SipRemote | null;
	/** When it was received (Date.now()). */
	readonly at: number;

	constructor(fields: {
		isRequest: boolean;
		method: string;
		uri: string;
		status: number;
		reason: string;
		headers: Array<readonly [string, string]>;
		body: string;
		raw: string;
		remote: SipRemote | null;
	}) {
		this.isRequest = fields.isRequest;
		this.method = fields.method;
		this.uri = fields.uri;
		this.status = fields.status;
		this.reason = fields.reason;
		this.headers = fields.headers;
		this.body = fields.body;
		this.raw = fields.raw;
		this.remote = fields.remote;
		this.at = Date.now();
	}

	/** First value of a header (full or compact name, any case), or undefined. */
	header(name: string): string | undefined {
		const want = canonicalHeaderName(name);
		for (const [n, v] of this.headers) {
			if (canonicalHeaderName(n) === want) {
				return LIST_HEADERS.has(want) ? splitList(v)[0] : v;
			}
		}
		return undefined;
	}

	/** All values of a header, in order; list headers are split at top-level commas. */
	headerAll(name: string): string[] {
		const want = canonicalHeaderName(name);
		const out: string[] = [];
		for (const [n, v] of this.headers) {
			if (canonicalHeaderName(n) === want) {
				if (LIST_HEADERS.has(want)) {
					out.push(...splitList(v));
				} else {
					out.push(v);
				}
			}
		}
		return out;
	}

	/** CSeq as {seq, method}, or null if missing/garbled. */
	get cseq(): { seq: number; method: string } | null {
		const v = this.header('cseq');
		const m = v ? /^\s*(\d+)\s+(\S+)/.exec(v) : null;
		return m ? { seq: Number(m[1]), method: (m[2] as string).toUpperCase() } : null;
	}

	/** Branch of the top Via, or null. */
	get branch(): string | null {
		const via = this.header('via');
		return via ? headerParam(via, 'branch') : null;
	}

	get callId(): string | undefined {
		return this.header('call-id');
	}

	/** Short form for error messages: "INVITE sip:..." or "200 OK". */
	get summary(): string {
		return this.isRequest ? `${this.method} ${this.uri}` : `${this.status} ${this.reason}`;
	}
}

/** Splits a header value at commas that are outside quotes and <...>. */
export function splitList(value: string): string[] {
	const out: string[] = [];
	let depth = 0;
	let quoted = false;
	let cur = '';
	for (let i = 0; i < value.length; i++) {
		const ch = value[i] as string;
		if (quoted) {
			cur += ch;
			if (ch === '\\' && i + 1 < value.length) {
				cur += value[++i];
			} else if (ch === '"') {
				quoted = false;
			}
			continue;
		}
		if (ch === '"') {
			quoted = true;
		} else if (ch === '<') {
			depth++;
		} else if (ch === '>') {
			depth = Math.max(0, depth - 1);
		} else if (ch === ',' && depth === 0) {
			if (cur.trim()) {
				out.push(cur.trim());
			}
			cur = '';
			continue;
		}
		cur += ch;
	}
	if (cur.trim()) {
		out.push(cur.trim());
	}
	return out;
}

/**
 * Parses one SIP message from a datagram. Throws on a message without a
 * valid start line. Header folding (continuation lines) is unfolded.
 */
export function parseSip(text: string, remote: SipRemote | null = null): SipMessage {
	const sep = /\r?\n\r?\n/.exec(text);
	const head = sep ? text.slice(0, sep.index) : text;
	let body = sep ? text.slice(sep.index + sep[0].length) : '';
	const rawLines = head.split(/\r?\n/);
	// Leading CRLFs before the start line are allowed (RFC 3261 §7.5).
	while (rawLines.length > 0 && rawLines[0] === '') {
		rawLines.shift();
	}
	const start = rawLines.shift();
	if (start === undefined) {
		throw new Error('empty SIP message');
	}
	const headers: Array<readonly [string, string]> = [];
	for (const line of rawLines) {
		if (/^[ \t]/.test(line) && headers.length > 0) {
			const last = headers.pop() as readonly [string, string];
			headers.push([last[0], `${last[1]} ${line.trim()}`]);
			continue;
		}
		const colon = line.indexOf(':');
		if (colon <= 0) {
			continue;
		}
		headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
	}
	const clHeader = headers.find(([n]) => canonicalHeaderName(n) === 'content-length');
	if (clHeader) {
		const cl = Number(clHeader[1]);
		if (Number.isInteger(cl) && cl >= 0) {
			// Content-Length counts bytes; cut by bytes.
			const bytes = Buffer.from(body, 'utf8');
			if (cl < bytes.length) {
				body = bytes.subarray(0, cl).toString('utf8');
			}
		}
	}
	const resp = /^SIP\/2\.0\s+(\d{3})(?:\s+(.*))?$/i.exec(start);
	if (resp) {
		return new SipMessage({ isRequest: false, method: '', uri: '', status: Number(resp[1]), reason: resp[2] ?? '', headers, body, raw: text, remote });
	}
	const req = /^([A-Za-z!%*_+`'~.-]+)\s+(\S+)\s+SIP\/2\.0$/i.exec(start);
	if (req) {
		return new SipMessage({ isRequest: true, method: (req[1] as string).toUpperCase(), uri: req[2] as string, status: 0, reason: '', headers, body, raw: text, remote });
	}
	throw new Error(`bad SIP start line: ${JSON.stringify(start.slice(0, 100))}`);
}

/** Value of `;name=value` in a header value (outside <...>), or null. */
export function headerParam(value: string, name: string): string | null {
	// Parameters after the closing '>' if there is one, else after the URI.
	const gt = value.lastIndexOf('>');
	const params = gt >= 0 ? value.slice(gt + 1) : value;
	const re = new RegExp(`;\\s*${name.replace(/[-/\\^$*+?.()|[\]{}]/g, '\\$&')}\\s*(?:=\\s*("[^"]*"|[^;,\\s]*))?`, 'i');
	const m = re.exec(params);
	if (!m) {
		return null;
	}
	const v = m[1] ?? '';
	return v.startsWith('"') ? v.slice(1, -1) : v;
}

/** The URI of a name-addr (`"x" <sip:a@b>;tag=1` → `sip:a@b`) or addr-spec (params dropped). */
export function uriOf(value: string): string {
	const lt = value.indexOf('<');
	if (lt >= 0) {
		const gt = value.indexOf('>', lt);
		return value.slice(lt + 1, gt >= 0 ? gt : undefined).trim();
	}
	return (value.split(';')[0] as string).trim();
}

/** host and port of a sip: URI (default port 5060). */
export function hostPortOf(uri: string): { host: string; port: number } {
	const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>?]+)(?::(\d+))?/i.exec(uri.trim());
	if (!m) {
		throw new Error(`not a SIP URI: ${uri}`);
	}
	return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : 5060 };
}

export function randomToken(bytes = 8): string {
	return randomBytes(bytes).toString('hex');
}

/** A fresh RFC 3261 branch (magic cookie prefix). */
export function newBranch(): string {
	return `z9hG4bK${randomToken(8)}`;
}

export function newTag(): string {
	return randomToken(5);
}

export function newCallId(host = '127.0.0.1'): string {
	return `${randomToken(10)}@${host}`;
}

/**
 * Builds a SIP message: start line, headers (in order), body. Content-Length
 * is appended (in bytes) unless a header of that name is given.
 */
export function buildSip(startLine: string, headers: Array<readonly [string, string | number]>, body = ''): string {
	const lines = [startLine];
	let hasCl = false;
	for (const [n, v] of headers) {
		if (canonicalHeaderName(n) === 'content-length') {
			hasCl = true;
		}
		lines.push(`${n}: ${v}`);
	}
	if (!hasCl) {
		lines.push(`Content-Length: ${Buffer.byteLength(body, 'utf8')}`);
	}
	return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

// ---------------------------------------------------------------------------
// SDP (just what an audio test needs)

export interface SdpCodec {
	pt: number;
	/** Encoding name upper-cased, e.g. PCMU, PCMA, TELEPHONE-EVENT. */
	name: string;
	rate: number;
}

export interface SdpAudio {
	/** Connection address (media level overrides session level). */
	address: string;
	port: number;
	proto: string;
	/** Payload types in m= line order with their rtpmap (static ones filled in). */
	codecs: SdpCodec[];
	/** sendrecv | sendonly | recvonly | inactive (default sendrecv). */
	direction: string;
	ptime: number | null;
}

const STATIC_PT: Record<number, SdpCodec> = {
	0: { pt: 0, name: 'PCMU', rate: 8000 },
	8: { pt: 8, name: 'PCMA', rate: 8000 },
	9: { pt: 9, name: 'G722', rate: 8000 },
	18: { pt: 18, name: 'G729', rate: 8000 },
};

/** Parses the first audio m= section of an SDP body, or returns null if there is none. */
export function parseSdpAudio(sdp: string): SdpAudio | null {
	const lines = sdp.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
	let sessionAddr = '';
	let media: { address: string; port: number; proto: string; pts: number[]; rtpmap: Map<number, SdpCodec>; direction: string; ptime: number | null } | null = null;
	let inAudio = false;
	let sessionDir = 'sendrecv';
	for (const line of lines) {
		if (line.startsWith('m=')) {
			if (media) {
				break; // only the first audio section
			}
			const m = /^m=(\S+)\s+(\d+)(?:\/\d+)?\s+(\S+)\s*(.*)$/.exec(line);
			inAudio = !!m && m[1] === 'audio';
			if (m && inAudio) {
				media = {
					address: '',
					port: Number(m[2]),
					proto: m[3] as string,
					pts: (m[4] ?? '').split(/\s+/).filter(Boolean).map(Number),
					rtpmap: new Map(),
					direction: sessionDir,
					ptime: null,
				};
			}
			continue;
		}
		const c = /^c=IN\s+IP[46]\s+([^\s/]+)/.exec(line);
		if (c) {
			if (media && inAudio) {
				media.address = c[1] as string;
			} else if (!media) {
				sessionAddr = c[1] as string;
			}
			continue;
		}
		const dir = /^a=(sendrecv|sendonly|recvonly|inactive)$/.exec(line);
		if (dir) {
			if (media && inAudio) {
				media.direction = dir[1] as string;
			} else if (!media) {
				sessionDir = dir[1] as string;
			}
			continue;
		}
		if (!media || !inAudio) {
			continue;
		}
		const rm = /^a=rtpmap:(\d+)\s+([^/\s]+)\/(\d+)/.exec(line);
		if (rm) {
			const pt = Number(rm[1]);
			media.rtpmap.set(pt, { pt, name: (rm[2] as string).toUpperCase(), rate: Number(rm[3]) });
			continue;
		}
		const pm = /^a=ptime:(\d+)/.exec(line);
		if (pm) {
			media.ptime = Number(pm[1]);
		}
	}
	if (!media) {
		return null;
	}
	const codecs: SdpCodec[] = [];
	for (const pt of media.pts) {
		const c = media.rtpmap.get(pt) ?? STATIC_PT[pt];
		codecs.push(c ?? { pt, name: `PT${pt}`, rate: 8000 });
	}
	return { address: media.address || sessionAddr, port: media.port, proto: media.proto, codecs, direction: media.direction, ptime: media.ptime };
}

export interface SdpOfferOptions {
	address: string;
	port: number;
	/** Audio codecs in preference order. */
	codecs: Array<'PCMU' | 'PCMA'>;
	/** telephone-event payload type, or null to leave it out. */
	dtmfPt: number | null;
	sessionId: number;
	version: number;
	direction?: string;
}

/** An SDP body offering (or answering with) G.711 and optionally telephone-event. */
export function buildSdp(o: SdpOfferOptions): string {
	const pts: number[] = o.codecs.map((c) => (c === 'PCMU' ? 0 : 8));
	if (o.dtmfPt !== null) {
		pts.push(o.dtmfPt);
	}
	const lines = [
		'v=0',
		`o=- ${o.sessionId} ${o.version} IN IP4 ${o.address}`,
		's=confsrv-test-ua',
		`c=IN IP4 ${o.address}`,
		't=0 0',
		`m=audio ${o.port} RTP/AVP ${pts.join(' ')}`,
	];
	for (const c of o.codecs) {
		lines.push(c === 'PCMU' ? 'a=rtpmap:0 PCMU/8000' : 'a=rtpmap:8 PCMA/8000');
	}
	if (o.dtmfPt !== null) {
		lines.push(`a=rtpmap:${o.dtmfPt} telephone-event/8000`, `a=fmtp:${o.dtmfPt} 0-16`);
	}
	lines.push('a=ptime:20', `a=${o.direction ?? 'sendrecv'}`);
	return `${lines.join('\r\n')}\r\n`;
}
