/**
 * SIP message writer: start line, headers in conventional capitalisation
 * (long forms), a Content-Length computed from the body, CRLF line ends.
 */
import type { SipMessage } from './types.js';

/** Names whose conventional spelling is not plain Capitalised-Words. */
const SPELLING: Record<string, string> = {
	'call-id': 'Call-ID',
	cseq: 'CSeq',
	'www-authenticate': 'WWW-Authenticate',
	'min-se': 'Min-SE',
	rseq: 'RSeq',
	rack: 'RAck',
	'mime-version': 'MIME-Version',
	'sip-etag': 'SIP-ETag',
	'sip-if-match': 'SIP-If-Match',
	'call-info': 'Call-Info',
	'alert-info': 'Alert-Info',
	'error-info': 'Error-Info',
	'p-asserted-identity': 'P-Asserted-Identity',
	'p-preferred-identity': 'P-Preferred-Identity',
	'x-uuid': 'X-UUID',
};

/** Header names in their written form. Unknown ones get Capitalised-Words. */
export function headerDisplayName(name: string): string {
	const known = SPELLING[name];
	if (known !== undefined) {
		return known;
	}
	let out = '';
	let up = true;
	for (let i = 0; i < name.length; i++) {
		const ch = name[i]!;
		out += up ? ch.toUpperCase() : ch;
		up = ch === '-';
	}
	return out;
}

export function serializeMessage(msg: SipMessage): Buffer {
	const startLine = msg.kind === 'request' ? msg.method + ' ' + msg.uri + ' ' + msg.version : msg.version + ' ' + msg.status + ' ' + msg.reason;
	if (hasLineBreak(startLine)) {
		throw new TypeError('SIP start line contains CR or LF');
	}
	let head = startLine + '\r\n';
	// Content-Length comes from the body; it takes the place of the first
	// existing one (so parse → serialize keeps the order), else goes last.
	const body = msg.body;
	let clWritten = false;
	for (const [name, value] of msg.headers.entries) {
		if (name === 'content-length') {
			if (!clWritten) {
				head += 'Content-Length: ' + body.length + '\r\n';
				clWritten = true;
			}
			continue;
		}
		// A line break in a value would let it forge headers.
		if (hasLineBreak(value) || hasLineBreak(name)) {
			throw new TypeError(`SIP header ${name} contains CR or LF`);
		}
		head += headerDisplayName(name) + ': ' + value + '\r\n';
	}
	if (!clWritten) {
		head += 'Content-Length: ' + body.length + '\r\n';
	}
	head += '\r\n';
	const headLen = Buffer.byteLength(head, 'utf8');
	const out = Buffer.allocUnsafe(headLen + body.length);
	out.write(head, 0, 'utf8');
	body.copy(out, headLen);
	return out;
}

function hasLineBreak(s: string): boolean {
	return s.indexOf('\r') >= 0 || s.indexOf('\n') >= 0;
}
