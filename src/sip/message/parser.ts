/**
 * SIP message parser (RFC 3261 §7, §25; RFC 4475 torture cases).
 *
 * One pass over a latin1 view of the header section, so string offsets are
 * byte offsets and the body is cut from the Buffer by Content-Length. Values
 * holding non-ASCII bytes are then read again as UTF-8. No regex backtracks:
 * lines are found with indexOf and names checked against lookup tables.
 *
 * A complete message is expected (the transport frames streams). Errors are
 * SipParseError with a reason fit for a 400 reason phrase; for requests
 * `partial` carries the start line and every well-formed header line, so the
 * caller can still answer.
 */
import { isAscii } from 'node:buffer';
import { SipParseError } from '../../common/errors.js';
import { CR, HT, LF, SP, TOKEN, isDigits, isToken } from './chars.js';
import { parseCSeq, parseVia } from './headers.js';
import { SipHeaders, type SipMessage } from './types.js';

/** More header lines than this is an attack or a bug, not a phone. */
export const MAX_HEADERS = 256;

/** RFC 3261 §7.3.3 and the extensions that register compact forms. */
const COMPACT: Array<string | undefined> = [];
for (const [c, name] of Object.entries({
	a: 'accept-contact',
	b: 'referred-by',
	c: 'content-type',
	d: 'request-disposition',
	e: 'content-encoding',
	f: 'from',
	i: 'call-id',
	j: 'reject-contact',
	k: 'supported',
	l: 'content-length',
	m: 'contact',
	o: 'event',
	r: 'refer-to',
	s: 'subject',
	t: 'to',
	u: 'allow-events',
	v: 'via',
	x: 'session-expires',
	y: 'identity',
})) {
	COMPACT[c.charCodeAt(0)] = name;
	COMPACT[c.toUpperCase().charCodeAt(0)] = name;
}

const NON_ASCII = /[\x80-\xff]/;

export function parseMessage(buf: Buffer): SipMessage {
	const len = buf.length;
	let start = 0;
	// CRLFs before the start line are keep-alives or stream leftovers (§7.5).
	while (start < len && (buf[start] === CR || buf[start] === LF)) {
		start++;
	}
	if (start === len) {
		throw new SipParseError('Empty message');
	}

	// The header section ends at the first blank line: normally the first
	// CRLFCRLF; a bare-LF blank line before it (or instead of it) is found
	// by the line loop below.
	const crlf2 = buf.indexOf('\r\n\r\n', start, 'latin1');
	const head = buf.toString('latin1', start, crlf2 >= 0 ? crlf2 + 2 : len);
	let bodyStart = crlf2 >= 0 ? crlf2 + 4 : -1;
	let firstError: string | undefined;
	const hlen = head.length;

	// Native SIMD check; most messages are pure ASCII and skip UTF-8 decoding.
	const utf8 = !isAscii(buf.subarray(start, start + hlen));

	// Start line. `cr` tracks the next CR: one that does not end its line is
	// refused, so no value can carry a line break. Other control characters
	// may appear in quoted-pairs (RFC 4475 §3.1.1.2) and are left to the
	// header parsers; the serializer refuses CR and LF in values.
	let cr = head.indexOf('\r');
	let nl = head.indexOf('\n');
	let lineEnd = nl < 0 ? hlen : nl;
	if (cr >= 0 && cr < lineEnd - 1) {
		throw new SipParseError('Bare CR in start line');
	}
	const startLine = head.slice(0, lineEnd > 0 && head.charCodeAt(lineEnd - 1) === CR ? lineEnd - 1 : lineEnd);
	const msg = parseStartLine(utf8 ? toUtf8(startLine) : startLine);
	const partial = msg.kind === 'request' ? msg : undefined;
	if (partial && !isAbsoluteUri(partial.uri)) {
		firstError = 'Malformed Request-URI';
	}

	// Header lines, unfolded: a line starting with SP/HT continues the one before.
	const headers = msg.headers;
	let pending: string | undefined;
	let count = 0;
	let pos = nl < 0 ? hlen : nl + 1;
	while (pos < hlen) {
		nl = head.indexOf('\n', pos);
		lineEnd = nl < 0 ? hlen : nl;
		const contentEnd = lineEnd > pos && head.charCodeAt(lineEnd - 1) === CR ? lineEnd - 1 : lineEnd;
		if (cr >= 0 && cr < pos) {
			cr = head.indexOf('\r', pos);
		}
		if (contentEnd === pos) {
			bodyStart = start + lineEnd + 1;
			break;
		}
		const c0 = head.charCodeAt(pos);
		if (cr >= 0 && cr < lineEnd - 1) {
			firstError ??= 'Bare CR in message header';
		} else if (c0 === SP || c0 === HT) {
			if (pending === undefined) {
				firstError ??= 'Malformed header (continuation of start line)';
			} else {
				pending += ' ' + head.slice(pos, contentEnd).trimStart();
			}
		} else {
			if (pending !== undefined) {
				const err = addHeader(headers, pending, utf8);
				firstError ??= err;
			}
			if (++count > MAX_HEADERS) {
				throw new SipParseError('Too many headers', partial);
			}
			pending = head.slice(pos, contentEnd);
		}
		pos = lineEnd + 1;
	}
	if (pending !== undefined) {
		const err = addHeader(headers, pending, utf8);
		firstError ??= err;
	}
	if (bodyStart < 0) {
		firstError ??= 'Incomplete header section';
	}
	if (firstError !== undefined) {
		throw new SipParseError(firstError, partial);
	}

	// The headers every request and response needs (§8.1.1; §8.1.3.3 drops responses without them).
	let clValue: string | undefined;
	let via = 0;
	let from = 0;
	let to = 0;
	let callId = 0;
	let cseq = 0;
	let maxForwards = 0;
	for (const [name, value] of headers.entries) {
		switch (name) {
			case 'via': {
				via++;
				break;
			}
			case 'from': {
				from++;
				break;
			}
			case 'to': {
				to++;
				break;
			}
			case 'call-id': {
				callId++;
				break;
			}
			case 'cseq': {
				cseq++;
				break;
			}
			case 'max-forwards': {
				maxForwards++;
				break;
			}
			case 'content-length': {
				if (clValue === undefined) {
					clValue = value;
				} else if (clValue !== value) {
					throw new SipParseError('Conflicting Content-Length headers', partial);
				}
				break;
			}
		}
	}
	const counts: Array<[string, number]> = [['Via', via], ['From', from], ['To', to], ['Call-ID', callId], ['CSeq', cseq]];
	for (const [name, k] of counts) {
		if (k === 0) {
			throw new SipParseError(`Missing ${name} header`, partial);
		}
		if (k > 1 && name !== 'Via') {
			throw new SipParseError(`Multiple ${name} headers`, partial);
		}
	}
	let cseqMethod: string;
	try {
		cseqMethod = parseCSeq(headers.get('cseq')!).method;
	} catch {
		throw new SipParseError('Malformed CSeq', partial);
	}
	if (msg.kind === 'request' && cseqMethod !== msg.method) {
		throw new SipParseError('CSeq method does not match request method', partial);
	}
	if (maxForwards > 0) {
		const mf = headers.get('max-forwards')!;
		if (maxForwards > 1 || !isDigits(mf) || mf.length > 10 || Number(mf) > 255) {
			throw new SipParseError('Malformed Max-Forwards', partial);
		}
	}
	try {
		// Only the top Via: responses and transactions are routed by it.
		parseVia(headers.get('via')!);
	} catch {
		throw new SipParseError('Malformed Via header', partial);
	}

	// Body: by Content-Length; without one (datagrams) the rest of the packet.
	let bodyEnd = len;
	if (clValue !== undefined) {
		if (!isDigits(clValue)) {
			throw new SipParseError('Malformed Content-Length', partial);
		}
		const cl = clValue.length <= 10 ? Number(clValue) : Infinity;
		if (cl > len - bodyStart) {
			throw new SipParseError('Content-Length exceeds message', partial);
		}
		bodyEnd = bodyStart + cl;
	}
	// A copy, so the transport may reuse its receive buffer.
	msg.body = bodyEnd > bodyStart ? Buffer.from(buf.subarray(bodyStart, bodyEnd)) : Buffer.alloc(0);
	return msg;
}

function parseStartLine(line: string): SipMessage {
	const sp1 = line.indexOf(' ');
	if (sp1 <= 0) {
		throw new SipParseError('Malformed start line');
	}
	const first = line.slice(0, sp1);
	if (first.length > 4 && first.charCodeAt(3) === 0x2f /* / */ && first.slice(0, 3).toUpperCase() === 'SIP') {
		// Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
		const version = sipVersion(first);
		const code = line.slice(sp1 + 1, sp1 + 4);
		const after = line.charCodeAt(sp1 + 4);
		if (version === undefined || code.length !== 3 || !isDigits(code) || code < '100' || code > '699' || !(Number.isNaN(after) || after === SP)) {
			throw new SipParseError(version === undefined ? 'Malformed start line' : 'Malformed status code');
		}
		return { kind: 'response', status: Number(code), reason: line.slice(sp1 + 5), version, headers: new SipHeaders(), body: EMPTY };
	}

	// Request-Line = Method SP Request-URI SP SIP-Version. The URI runs to
	// the last space, so stray whitespace in it (RFC 4475 lwsruri) is
	// reported as a bad URI, with the headers read, rather than dropped.
	const sp2 = line.lastIndexOf(' ');
	const version = sp2 > sp1 ? sipVersion(line.slice(sp2 + 1)) : undefined;
	if (version === undefined || !isToken(first)) {
		throw new SipParseError('Malformed start line');
	}
	return { kind: 'request', method: first, uri: line.slice(sp1 + 1, sp2), version, headers: new SipHeaders(), body: EMPTY };
}

const EMPTY = Buffer.alloc(0);

/** 'SIP/' 1*DIGIT '.' 1*DIGIT, the 'SIP' in any case; normalised to upper case. */
function sipVersion(s: string): string | undefined {
	if (s.length < 7 || s.charCodeAt(3) !== 0x2f || s.slice(0, 3).toUpperCase() !== 'SIP') {
		return undefined;
	}
	const dot = s.indexOf('.', 4);
	if (dot < 0 || !isDigits(s.slice(4, dot)) || !isDigits(s.slice(dot + 1))) {
		return undefined;
	}
	return 'SIP' + s.slice(3);
}

/**
 * scheme ':' followed by URI characters. The full parse is the caller's (an
 * unknown scheme gets 416, not 400); this only keeps out what can never be a
 * URI, such as '<sip:…>' or embedded whitespace.
 */
function isAbsoluteUri(uri: string): boolean {
	const colon = uri.indexOf(':');
	if (colon <= 0 || colon === uri.length - 1) {
		return false;
	}
	for (let i = 0; i < uri.length; i++) {
		const c = uri.charCodeAt(i);
		if (i < colon) {
			const alpha = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
			if (!(alpha || (i > 0 && ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)))) {
				return false;
			}
		} else if (c <= 0x20 || c >= 0x7f || c === 0x3c || c === 0x3e || c === 0x22) {
			return false;
		}
	}
	return true;
}

/**
 * Appends one unfolded header line. Returns an error reason instead of
 * throwing, so the lines after a bad one still reach `partial`.
 */
function addHeader(headers: SipHeaders, line: string, utf8: boolean): string | undefined {
	const n = line.length;
	let i = 0;
	while (i < n) {
		const c = line.charCodeAt(i);
		if (c >= 128 || TOKEN[c] === 0) {
			break;
		}
		i++;
	}
	const nameEnd = i;
	while (i < n && (line.charCodeAt(i) === SP || line.charCodeAt(i) === HT)) {
		i++;
	}
	if (nameEnd === 0 || i === n || line.charCodeAt(i) !== 0x3a /* : */) {
		return 'Malformed header (no colon)';
	}
	i++;
	while (i < n && (line.charCodeAt(i) === SP || line.charCodeAt(i) === HT)) {
		i++;
	}
	let end = n;
	while (end > i && (line.charCodeAt(end - 1) === SP || line.charCodeAt(end - 1) === HT)) {
		end--;
	}
	let name: string;
	if (nameEnd === 1) {
		name = COMPACT[line.charCodeAt(0)] ?? line.slice(0, 1).toLowerCase();
	} else {
		name = line.slice(0, nameEnd).toLowerCase();
	}
	let value = line.slice(i, end);
	if (utf8 && NON_ASCII.test(value)) {
		value = toUtf8(value);
	}
	headers.entries.push([name, value]);
	return undefined;
}

function toUtf8(latin1: string): string {
	return Buffer.from(latin1, 'latin1').toString('utf8');
}
