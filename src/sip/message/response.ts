/**
 * Building a response to a request (RFC 3261 §8.2.6) and the default
 * reason phrases.
 */
import { parseNameAddr } from './headers.js';
import { SipHeaders, type SipRequest, type SipResponse } from './types.js';

const PHRASES: Record<number, string> = {
	100: 'Trying',
	180: 'Ringing',
	181: 'Call Is Being Forwarded',
	182: 'Queued',
	183: 'Session Progress',
	199: 'Early Dialog Terminated',
	200: 'OK',
	202: 'Accepted',
	204: 'No Notification',
	300: 'Multiple Choices',
	301: 'Moved Permanently',
	302: 'Moved Temporarily',
	305: 'Use Proxy',
	380: 'Alternative Service',
	400: 'Bad Request',
	401: 'Unauthorized',
	402: 'Payment Required',
	403: 'Forbidden',
	404: 'Not Found',
	405: 'Method Not Allowed',
	406: 'Not Acceptable',
	407: 'Proxy Authentication Required',
	408: 'Request Timeout',
	410: 'Gone',
	412: 'Conditional Request Failed',
	413: 'Request Entity Too Large',
	414: 'Request-URI Too Long',
	415: 'Unsupported Media Type',
	416: 'Unsupported URI Scheme',
	417: 'Unknown Resource-Priority',
	420: 'Bad Extension',
	421: 'Extension Required',
	422: 'Session Interval Too Small',
	423: 'Interval Too Brief',
	428: 'Use Identity Header',
	429: 'Provide Referrer Identity',
	433: 'Anonymity Disallowed',
	436: 'Bad Identity-Info',
	437: 'Unsupported Certificate',
	438: 'Invalid Identity Header',
	439: 'First Hop Lacks Outbound Support',
	440: 'Max-Breadth Exceeded',
	469: 'Bad Info Package',
	470: 'Consent Needed',
	480: 'Temporarily Unavailable',
	481: 'Call/Transaction Does Not Exist',
	482: 'Loop Detected',
	483: 'Too Many Hops',
	484: 'Address Incomplete',
	485: 'Ambiguous',
	486: 'Busy Here',
	487: 'Request Terminated',
	488: 'Not Acceptable Here',
	489: 'Bad Event',
	491: 'Request Pending',
	493: 'Undecipherable',
	494: 'Security Agreement Required',
	500: 'Server Internal Error',
	501: 'Not Implemented',
	502: 'Bad Gateway',
	503: 'Service Unavailable',
	504: 'Server Time-out',
	505: 'Version Not Supported',
	513: 'Message Too Large',
	555: 'Push Notification Service Not Supported',
	580: 'Precondition Failure',
	600: 'Busy Everywhere',
	603: 'Decline',
	604: 'Does Not Exist Anywhere',
	606: 'Not Acceptable',
	607: 'Unwanted',
	608: 'Rejected',
};

const CLASS_PHRASES = ['', 'Trying', 'OK', 'Redirection', 'Request Failure', 'Server Failure', 'Global Failure'];

/** The standard reason phrase, or a generic one for the status class. */
export function reasonPhrase(code: number): string {
	return PHRASES[code] ?? CLASS_PHRASES[Math.floor(code / 100)] ?? '';
}

/** Requests whose 101-299 responses create a dialog and so carry Record-Route (§12.1.1, RFC 6665, RFC 3515). */
const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER']);

export interface CreateResponseOptions {
	/** Added to To when it has no tag yet (not on 100 Trying, §8.2.6.2). */
	toTag?: string;
	/** Extra header lines appended in order, e.g. [['Contact', '<sip:…>']]. */
	headers?: Array<[string, string]>;
	body?: Buffer;
	/** Content-Type of the body. */
	contentType?: string;
}

/**
 * A response echoing the request's Via (all, in order), From, To, Call-ID
 * and CSeq verbatim (§8.2.6.2), Timestamp on 100 (§8.2.6.1), and
 * Record-Route on dialog-creating 101-299 responses. Works on a parser's
 * `partial` request too: headers it lacks are left out.
 */
export function createResponse(req: SipRequest, status: number, reason?: string, opts?: CreateResponseOptions): SipResponse {
	if (!Number.isInteger(status) || status < 100 || status > 699) {
		throw new RangeError(`SIP status must be 100-699, got ${status}`);
	}
	const src = req.headers;
	const h = new SipHeaders();
	for (const [name, value] of src.entries) {
		if (name === 'via') {
			h.entries.push([name, value]);
		}
	}
	copy(src, h, 'from');
	const to = src.get('to');
	if (to !== undefined) {
		const tag = opts?.toTag;
		h.entries.push(['to', tag && status > 100 && !hasTag(to) ? to + ';tag=' + tag : to]);
	}
	copy(src, h, 'call-id');
	copy(src, h, 'cseq');
	if (status === 100) {
		copy(src, h, 'timestamp');
	}
	if (status > 100 && status < 300 && DIALOG_CREATING.has(req.method)) {
		for (const [name, value] of src.entries) {
			if (name === 'record-route') {
				h.entries.push([name, value]);
			}
		}
	}
	if (opts?.headers) {
		for (const [name, value] of opts.headers) {
			h.append(name, value);
		}
	}
	if (opts?.body && opts.contentType) {
		h.set('content-type', opts.contentType);
	}
	return { kind: 'response', status, reason: reason ?? reasonPhrase(status), version: 'SIP/2.0', headers: h, body: opts?.body ?? Buffer.alloc(0) };
}

function copy(from: SipHeaders, to: SipHeaders, name: string): void {
	const v = from.get(name);
	if (v !== undefined) {
		to.entries.push([name, v]);
	}
}

function hasTag(to: string): boolean {
	try {
		return parseNameAddr(to).params['tag'] !== undefined;
	} catch {
		// Unparseable To: look for a tag parameter after the address.
		return /;[ \t]*tag[ \t]*=/i.test(to.slice(to.lastIndexOf('>') + 1));
	}
}
