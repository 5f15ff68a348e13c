/**
 * Structured header values (RFC 3261 §20, §25): name-addr (From, To,
 * Contact, Route …), Via, CSeq, generic parameters and comma lists, plus the
 * random identifiers a UA mints (branch, tag, Call-ID).
 *
 * Header parameter names are lower-cased; values are kept as written, a
 * quoted-string value keeps its quotes (so it is echoed back unchanged).
 * Every parser throws SipParseError with a short reason.
 */
import { randomBytes } from 'node:crypto';
import { SipParseError } from '../../common/errors.js';
import { GENVALUE, HT, IPV6, SP, TOKEN, allIn, quotedEnd, skipWs, tokenEnd, validHostname } from './chars.js';
import { formatUri, parseUri } from './uri.js';
import type { CSeq, NameAddr, SipMessage, Via } from './types.js';

const SEMI = 0x3b;
const COMMA = 0x2c;
const EQUAL = 0x3d;
const DQUOTE = 0x22;
const LAQUOT = 0x3c;
const SLASH = 0x2f;

/** RFC 3261 §8.1.1.7: branches starting with this cookie are globally unique. */
export const BRANCH_COOKIE = 'z9hG4bK';

/** Parses a whole value of ';name[=value]' parameters (LWS allowed around ';' and '='). */
export function parseParams(text: string): Record<string, string | null> {
	const out: Record<string, string | null> = {};
	if (readParams(text, 0, out) !== text.length) {
		throw new SipParseError('Malformed parameter');
	}
	return out;
}

export function formatParams(params: Record<string, string | null>): string {
	let s = '';
	for (const name in params) {
		const v = params[name];
		s += v === null || v === undefined ? ';' + name : ';' + name + '=' + v;
	}
	return s;
}

/**
 * Reads parameters from i; returns the index of the first char after them
 * (trailing LWS skipped), which is the end, a ',' or something unexpected.
 */
function readParams(s: string, i: number, out: Record<string, string | null>): number {
	const n = s.length;
	for (;;) {
		i = skipWs(s, i);
		if (i >= n || s.charCodeAt(i) !== SEMI) {
			return i;
		}
		i = skipWs(s, i + 1);
		const ne = tokenEnd(s, i);
		if (ne === i) {
			throw new SipParseError('Malformed parameter');
		}
		const name = s.slice(i, ne).toLowerCase();
		let value: string | null = null;
		i = ne;
		const k = skipWs(s, i);
		if (k < n && s.charCodeAt(k) === EQUAL) {
			i = skipWs(s, k + 1);
			if (s.charCodeAt(i) === DQUOTE) {
				const e = quotedEnd(s, i);
				if (e < 0) {
					throw new SipParseError('Unterminated quoted string');
				}
				value = s.slice(i, e);
				i = e;
			} else {
				const vs = i;
				while (i < n) {
					const c = s.charCodeAt(i);
					if (c >= 128 || GENVALUE[c] === 0) {
						break;
					}
					i++;
				}
				if (i === vs) {
					throw new SipParseError('Malformed parameter');
				}
				value = s.slice(vs, i);
			}
		}
		// A repeated parameter keeps its first value; '__proto__' would poison the record.
		if (name !== '__proto__' && !Object.hasOwn(out, name)) {
			out[name] = value;
		}
	}
}

/** Strips the quotes of a quoted-string and resolves its \-escapes. */
export function unquote(s: string): string {
	if (s.length < 2 || s.charCodeAt(0) !== DQUOTE) {
		return s;
	}
	const inner = s.slice(1, -1);
	return inner.indexOf('\\') < 0 ? inner : inner.replace(/\\(.)/gs, '$1');
}

export function quote(s: string): string {
	return '"' + s.replace(/["\\]/g, '\\$&') + '"';
}

/**
 * name-addr ('"Bob" <sip:bob@b.example>;tag=1') or addr-spec
 * ('sip:bob@b.example;tag=1'). In the addr-spec form ';' parameters belong
 * to the header, not the URI (§20.10).
 */
export function parseNameAddr(value: string): NameAddr {
	const n = value.length;
	let i = skipWs(value, 0);
	let displayName: string | undefined;
	if (value.charCodeAt(i) === DQUOTE) {
		const e = quotedEnd(value, i);
		if (e < 0) {
			throw new SipParseError('Unterminated display name');
		}
		displayName = unquote(value.slice(i, e));
		i = skipWs(value, e);
		if (value.charCodeAt(i) !== LAQUOT) {
			throw new SipParseError('Malformed address');
		}
	} else {
		// Token display name: tokens and LWS up to '<' (none at all is fine:
		// 'caller<sip:…>'). Raw UTF-8 is not in the grammar but unambiguous here.
		let j = i;
		while (j < n) {
			const c = value.charCodeAt(j);
			if (c === SP || c === HT || c >= 128 || TOKEN[c] === 1) {
				j++;
			} else {
				break;
			}
		}
		if (value.charCodeAt(j) === LAQUOT) {
			const dn = value.slice(i, j).trim();
			if (dn.length > 0) {
				displayName = dn;
			}
			i = j;
		}
	}
	let uriText: string;
	if (value.charCodeAt(i) === LAQUOT) {
		const gt = value.indexOf('>', i + 1);
		if (gt < 0) {
			throw new SipParseError('Malformed address');
		}
		uriText = value.slice(i + 1, gt);
		i = gt + 1;
	} else {
		const s = i;
		while (i < n) {
			const c = value.charCodeAt(i);
			if (c === SEMI || c === SP || c === HT || c === COMMA) {
				break;
			}
			i++;
		}
		uriText = value.slice(s, i);
		if (uriText.length === 0) {
			throw new SipParseError('Malformed address');
		}
	}
	const uri = parseUri(uriText);
	const params: Record<string, string | null> = {};
	if (readParams(value, i, params) !== n) {
		throw new SipParseError('Malformed address');
	}
	const na: NameAddr = { uri, uriText, params };
	if (displayName !== undefined) {
		na.displayName = displayName;
	}
	return na;
}

/** Always writes the '<…>' form, so URI parameters never pass for header ones. */
export function formatNameAddr(na: NameAddr): string {
	const dn = na.displayName ? quote(na.displayName) + ' ' : '';
	return dn + '<' + formatUri(na.uri) + '>' + formatParams(na.params);
}

/**
 * One Via header value, which may carry several comma-separated via-parms.
 * LWS is allowed around '/', ':' and ';' (RFC 4475 §3.1.1.1).
 */
export function parseVia(value: string): Via[] {
	const out: Via[] = [];
	const n = value.length;
	let i = 0;
	for (;;) {
		i = skipWs(value, i);
		const pe = tokenEnd(value, i);
		const protoName = value.slice(i, pe);
		i = expectSlash(value, pe);
		const ve = tokenEnd(value, i);
		const protoVersion = value.slice(i, ve);
		i = expectSlash(value, ve);
		const te = tokenEnd(value, i);
		const transport = value.slice(i, te);
		i = skipWs(value, te);
		if (protoName.length === 0 || protoVersion.length === 0 || transport.length === 0 || i === te) {
			throw new SipParseError('Malformed Via');
		}

		let host: string;
		if (value.charCodeAt(i) === 0x5b /* [ */) {
			const rb = value.indexOf(']', i);
			const firstColon = value.indexOf(':', i);
			if (rb < 0 || firstColon < 0 || firstColon > rb || !allIn(IPV6, value, i + 1, rb)) {
				throw new SipParseError('Malformed Via host');
			}
			host = value.slice(i, rb + 1);
			i = rb + 1;
		} else {
			const hs = i;
			while (i < n) {
				const c = value.charCodeAt(i);
				if (!((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) || c === 0x2d || c === 0x2e)) {
					break;
				}
				i++;
			}
			if (!validHostname(value, hs, i)) {
				throw new SipParseError('Malformed Via host');
			}
			host = value.slice(hs, i);
		}
		const via: Via = { protocol: protoName.toUpperCase() + '/' + protoVersion, transport: transport.toUpperCase(), host, params: {} };

		let k = skipWs(value, i);
		if (value.charCodeAt(k) === 0x3a /* : */) {
			k = skipWs(value, k + 1);
			const ps = k;
			while (k < n && value.charCodeAt(k) >= 0x30 && value.charCodeAt(k) <= 0x39) {
				k++;
			}
			const port = k - ps <= 5 ? Number(value.slice(ps, k)) : NaN;
			if (k === ps || !(port <= 65535)) {
				throw new SipParseError('Malformed Via port');
			}
			via.port = port;
			i = k;
		}

		i = readParams(value, i, via.params);
		checkViaParams(via.params);
		out.push(via);
		if (i >= n) {
			return out;
		}
		if (value.charCodeAt(i) !== COMMA) {
			throw new SipParseError('Malformed Via');
		}
		i++;
	}
}

function expectSlash(s: string, i: number): number {
	i = skipWs(s, i);
	if (s.charCodeAt(i) !== SLASH) {
		throw new SipParseError('Malformed Via');
	}
	return skipWs(s, i + 1);
}

/** The Via parameters routing depends on must have their §20.42/RFC 3581 form. */
function checkViaParams(p: Record<string, string | null>): void {
	const ttl = p['ttl'];
	const rport = p['rport'];
	if ((ttl !== undefined && !(ttl !== null && /^\d{1,3}$/.test(ttl) && Number(ttl) <= 255)) || (rport !== undefined && rport !== null && !(/^\d{1,5}$/.test(rport) && Number(rport) <= 65535))) {
		throw new SipParseError('Malformed Via parameter');
	}
	const branch = p['branch'];
	if (branch !== undefined && (branch === null || tokenEnd(branch, 0) !== branch.length)) {
		throw new SipParseError('Malformed Via parameter');
	}
}

export function formatVia(v: Via): string {
	return v.protocol + '/' + v.transport + ' ' + v.host + (v.port !== undefined ? ':' + v.port : '') + formatParams(v.params);
}

/** Every via-parm of every Via header, top first. */
export function getVias(msg: SipMessage): Via[] {
	const out: Via[] = [];
	for (const v of msg.headers.getAll('via')) {
		for (const via of parseVia(v)) {
			out.push(via);
		}
	}
	return out;
}

/** CSeq = 1*DIGIT LWS Method; the number is below 2**31 (§8.1.1.5). */
export function parseCSeq(value: string): CSeq {
	const n = value.length;
	let i = skipWs(value, 0);
	const ds = i;
	while (i < n && value.charCodeAt(i) >= 0x30 && value.charCodeAt(i) <= 0x39) {
		i++;
	}
	const seq = i - ds <= 10 ? Number(value.slice(ds, i)) : Infinity;
	const ms = skipWs(value, i);
	const me = tokenEnd(value, ms);
	if (i === ds || seq >= 0x80000000 || ms === i || me === ms || skipWs(value, me) !== n) {
		throw new SipParseError('Malformed CSeq');
	}
	return { seq, method: value.slice(ms, me) };
}

export function formatCSeq(c: CSeq): string {
	return c.seq + ' ' + c.method;
}

/** Splits a list header value at commas outside quoted strings and <…>; drops empty items. */
export function splitHeaderList(value: string): string[] {
	const out: string[] = [];
	const n = value.length;
	let start = 0;
	let angle = false;
	for (let i = 0; i < n; i++) {
		const c = value.charCodeAt(i);
		if (c === DQUOTE) {
			const e = quotedEnd(value, i);
			if (e < 0) {
				break; // unterminated: the rest is one item
			}
			i = e - 1;
		} else if (c === LAQUOT) {
			angle = true;
		} else if (c === 0x3e /* > */) {
			angle = false;
		} else if (c === COMMA && !angle) {
			const item = value.slice(start, i).trim();
			if (item.length > 0) {
				out.push(item);
			}
			start = i + 1;
		}
	}
	const last = value.slice(start).trim();
	if (last.length > 0) {
		out.push(last);
	}
	return out;
}

/** A new RFC 3261 branch: the magic cookie and 64 random bits. */
export function generateBranch(): string {
	return BRANCH_COOKIE + randomBytes(8).toString('hex');
}

/** A From/To tag with 64 random bits (§19.3 asks for at least 32). */
export function generateTag(): string {
	return randomBytes(8).toString('hex');
}

/** A Call-ID: 96 random bits, '@host' when a host is given. */
export function generateCallId(host?: string): string {
	const id = randomBytes(12).toString('hex');
	return host ? id + '@' + host : id;
}
