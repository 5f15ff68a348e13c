/**
 * SIP, SIPS (RFC 3261 §19.1, §25) and TEL (RFC 3966) URIs.
 *
 * The user part, password, parameters and headers are stored unescaped
 * ('%20' → ' ') so they compare as §19.1.4 says; formatUri escapes them
 * again. Parameter names are lower-cased, values kept as written. An IPv6
 * host keeps its brackets ('[2001:db8::1]'), so host + ':' + port stays
 * unambiguous. A tel: URI has its number in `user` and an empty `host`.
 */
import { SipParseError } from '../../common/errors.js';
import { HNV, HOSTNAME, IPV6, PARAM, PASSWORD, TEL, USER, allIn, validHostname } from './chars.js';
import type { SipUri } from './types.js';

const PERCENT = 0x25;

export function parseUri(text: string): SipUri {
	const colon = text.indexOf(':');
	if (colon <= 0) {
		throw new SipParseError('Malformed URI');
	}
	const scheme = text.slice(0, colon).toLowerCase();
	if (scheme === 'sip' || scheme === 'sips') {
		return parseSipUri(text, colon + 1, scheme);
	}
	if (scheme === 'tel') {
		return parseTelUri(text, colon + 1);
	}
	throw new SipParseError(isSchemeName(scheme) ? 'Unsupported URI scheme' : 'Malformed URI');
}

export function formatUri(uri: SipUri): string {
	if (uri.scheme === 'tel') {
		return 'tel:' + (uri.user ?? '') + formatUriParams(uri.params);
	}
	let s = uri.scheme + ':';
	if (uri.user !== undefined) {
		s += escape(uri.user, USER);
		if (uri.password !== undefined) {
			s += ':' + escape(uri.password, PASSWORD);
		}
		s += '@';
	}
	s += uri.host;
	if (uri.port !== undefined) {
		s += ':' + uri.port;
	}
	s += formatUriParams(uri.params);
	let sep = '?';
	for (const name in uri.headers) {
		s += sep + escape(name, HNV) + '=' + escape(uri.headers[name]!, HNV);
		sep = '&';
	}
	return s;
}

function parseSipUri(text: string, start: number, scheme: 'sip' | 'sips'): SipUri {
	const n = text.length;
	let i = start;
	const uri: SipUri = { scheme, host: '', params: {}, headers: {} };

	// '@' is legal only in userinfo (params and headers must escape it).
	const at = text.indexOf('@', i);
	if (at >= 0) {
		const pc = text.indexOf(':', i);
		const userEnd = pc >= 0 && pc < at ? pc : at;
		if (userEnd === i || !validEscaped(USER, text, i, userEnd)) {
			throw new SipParseError('Malformed URI user');
		}
		uri.user = unescape(text.slice(i, userEnd));
		if (userEnd < at) {
			if (!validEscaped(PASSWORD, text, userEnd + 1, at)) {
				throw new SipParseError('Malformed URI password');
			}
			uri.password = unescape(text.slice(userEnd + 1, at));
		}
		i = at + 1;
	}

	if (text.charCodeAt(i) === 0x5b /* [ */) {
		const rb = text.indexOf(']', i);
		const firstColon = text.indexOf(':', i);
		if (rb < 0 || firstColon < 0 || firstColon > rb || !allIn(IPV6, text, i + 1, rb)) {
			throw new SipParseError('Malformed URI host');
		}
		uri.host = text.slice(i, rb + 1);
		i = rb + 1;
	} else {
		const h = i;
		while (i < n) {
			const c = text.charCodeAt(i);
			if (c >= 128 || HOSTNAME[c] === 0) {
				break;
			}
			i++;
		}
		if (!validHostname(text, h, i)) {
			throw new SipParseError('Malformed URI host');
		}
		uri.host = text.slice(h, i);
	}

	if (text.charCodeAt(i) === 0x3a /* : */) {
		const p = ++i;
		while (i < n && isDigit(text.charCodeAt(i))) {
			i++;
		}
		const port = i - p <= 5 ? Number(text.slice(p, i)) : NaN;
		if (i === p || !(port <= 65535)) {
			throw new SipParseError('Malformed URI port');
		}
		uri.port = port;
	}

	i = readUriParams(text, i, uri.params, true);

	if (i < n) {
		if (text.charCodeAt(i) !== 0x3f /* ? */) {
			throw new SipParseError('Malformed URI');
		}
		i++;
		while (i <= n) {
			let amp = text.indexOf('&', i);
			if (amp < 0) {
				amp = n;
			}
			const eq = text.indexOf('=', i);
			if (eq < 0 || eq >= amp || eq === i || !validEscaped(HNV, text, i, eq) || !validEscaped(HNV, text, eq + 1, amp)) {
				throw new SipParseError('Malformed URI header');
			}
			const name = unescape(text.slice(i, eq));
			if (name !== '__proto__') {
				uri.headers[name] = unescape(text.slice(eq + 1, amp));
			}
			i = amp + 1;
		}
	}
	return uri;
}

function parseTelUri(text: string, start: number): SipUri {
	let end = text.indexOf(';', start);
	if (end < 0) {
		end = text.length;
	}
	const number = text.slice(start, end);
	// A global number is '+' and digits; a local one needs phone-context (RFC 3966 §5.1.5).
	if (number.length === 0 || !allIn(TEL, number) || number.lastIndexOf('+') > 0 || !/[0-9a-fA-F*#]/.test(number)) {
		throw new SipParseError('Malformed tel URI');
	}
	const uri: SipUri = { scheme: 'tel', user: number, host: '', params: {}, headers: {} };
	if (readUriParams(text, end, uri.params, false) !== text.length) {
		throw new SipParseError('Malformed tel URI');
	}
	return uri;
}

/** Reads ';name[=value]…' from i; stops at '?' (when allowed) or the end. */
function readUriParams(text: string, i: number, out: Record<string, string | null>, stopAtQuery: boolean): number {
	const n = text.length;
	while (i < n && text.charCodeAt(i) === 0x3b /* ; */) {
		const s = ++i;
		while (i < n) {
			const c = text.charCodeAt(i);
			if (c === 0x3b || (c === 0x3f && stopAtQuery)) {
				break;
			}
			i++;
		}
		const eq = text.indexOf('=', s);
		const nameEnd = eq >= 0 && eq < i ? eq : i;
		if (nameEnd === s || !validEscaped(PARAM, text, s, nameEnd)) {
			throw new SipParseError('Malformed URI parameter');
		}
		let value: string | null = null;
		if (nameEnd < i) {
			if (nameEnd + 1 === i || !validEscaped(PARAM, text, nameEnd + 1, i)) {
				throw new SipParseError('Malformed URI parameter');
			}
			value = unescape(text.slice(nameEnd + 1, i));
		}
		const name = unescape(text.slice(s, nameEnd)).toLowerCase();
		// A repeated parameter keeps its first value; '__proto__' would poison the record.
		if (name !== '__proto__' && !Object.hasOwn(out, name)) {
			out[name] = value;
		}
	}
	return i;
}

function formatUriParams(params: Record<string, string | null>): string {
	let s = '';
	for (const name in params) {
		const v = params[name];
		s += ';' + escape(name, PARAM);
		if (v !== null && v !== undefined) {
			s += '=' + escape(v, PARAM);
		}
	}
	return s;
}

function isDigit(c: number): boolean {
	return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
	return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

function isSchemeName(s: string): boolean {
	return /^[a-z][a-z0-9+.-]*$/.test(s);
}

/** Every char of s[from, to) is in the table or starts a %XX escape. */
function validEscaped(t: Uint8Array, s: string, from: number, to: number): boolean {
	for (let i = from; i < to; i++) {
		const c = s.charCodeAt(i);
		if (c === PERCENT) {
			if (i + 2 >= to || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) {
				return false;
			}
			i += 2;
		} else if (c >= 128 || t[c] === 0) {
			return false;
		}
	}
	return true;
}

/**
 * %XX → characters. Escapes are read as UTF-8; a sequence that is not valid
 * UTF-8 falls back to one character per byte so nothing is lost.
 */
export function unescape(s: string): string {
	if (s.indexOf('%') < 0) {
		return s;
	}
	try {
		return decodeURIComponent(s);
	} catch {
		return s.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
	}
}

/** Escapes every character not in the table as %XX of its UTF-8 bytes. */
export function escape(s: string, t: Uint8Array): string {
	if (allIn(t, s)) {
		return s;
	}
	let out = '';
	for (const ch of s) {
		const c = ch.charCodeAt(0);
		if (c < 128) {
			out += t[c] === 1 ? ch : '%' + (c < 16 ? '0' : '') + c.toString(16).toUpperCase();
		} else {
			out += encodeURIComponent(ch);
		}
	}
	return out;
}
