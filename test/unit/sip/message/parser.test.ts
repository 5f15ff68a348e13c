import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SipParseError } from '../../../../src/common/errors.js';
import { MAX_HEADERS, getVias, parseCSeq, parseMessage, parseNameAddr, parseUri, type SipMessage, type SipRequest, type SipResponse } from '../../../../src/sip/message/index.js';

/** Fixtures are stored with LF line ends; SIP wants CRLF. */
function fixture(name: string): Buffer {
	const url = new URL(`../../../../../test/fixtures/sip/${name}`, import.meta.url);
	return Buffer.from(readFileSync(url, 'utf8').replace(/\r?\n/g, '\r\n'), 'utf8');
}

function sip(lines: string[], body = ''): Buffer {
	return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'utf8');
}

function request(buf: Buffer): SipRequest {
	const m = parseMessage(buf);
	assert.equal(m.kind, 'request');
	return m as SipRequest;
}

function response(buf: Buffer): SipResponse {
	const m = parseMessage(buf);
	assert.equal(m.kind, 'response');
	return m as SipResponse;
}

/** Asserts a SipParseError with that message; returns it for more checks. */
function parseError(buf: Buffer, message: string): SipParseError {
	let caught: unknown;
	try {
		parseMessage(buf);
	} catch (err) {
		caught = err;
	}
	assert.ok(caught instanceof SipParseError, `expected SipParseError '${message}', got ${String(caught)}`);
	assert.equal(caught.message, message);
	assert.equal(caught.code, 'SIP_PARSE');
	return caught;
}

const BASE = [
	'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKbase1',
	'Max-Forwards: 70',
	'From: <sip:a@example.com>;tag=f1',
	'To: <sip:b@example.com>',
	'Call-ID: base-call@192.0.2.1',
	'CSeq: 1 OPTIONS',
];

function options(extra: string[] = [], omit = ''): string[] {
	return ['OPTIONS sip:b@example.com SIP/2.0', ...BASE.filter((l) => !omit || !l.toLowerCase().startsWith(omit.toLowerCase() + ':')), ...extra];
}

describe('parseMessage: valid requests', () => {
	it('parses an INVITE with an SDP body', () => {
		const m = request(fixture('invite-sdp.txt'));
		assert.equal(m.method, 'INVITE');
		assert.equal(m.uri, 'sip:2001@conf.example.com');
		assert.equal(m.version, 'SIP/2.0');
		assert.equal(m.headers.get('via'), 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport');
		assert.equal(m.headers.get('From'), '"Alice Smith" <sip:alice@example.com>;tag=1928301774');
		assert.equal(m.headers.get('call-id'), 'a84b4c76e66710@pc33.example.com');
		assert.equal(m.headers.get('cseq'), '314159 INVITE');
		assert.equal(m.headers.get('content-type'), 'application/sdp');
		assert.equal(m.headers.get('allow'), 'INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO');
		assert.equal(m.headers.entries.length, 12);
		const body = m.body.toString('utf8');
		assert.ok(body.startsWith('v=0\r\no=alice 2890844526'));
		assert.ok(body.endsWith('a=sendrecv\r\n'));
		assert.equal(m.body.length, Number(m.headers.get('content-length')));
	});

	it('maps every compact form to its long name, in either case', () => {
		const m = request(
			sip([
				'INVITE sip:b@example.com SIP/2.0',
				'v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKc1',
				'f: <sip:a@example.com>;tag=1',
				't: <sip:b@example.com>',
				'i: compact@192.0.2.1',
				'CSeq: 1 INVITE',
				'm: <sip:a@192.0.2.1>',
				'e: gzip',
				's: hello',
				'k: timer',
				'o: refer',
				'u: dialog',
				'r: <sip:c@example.com>',
				'b: <sip:a@example.com>',
				'x: 1800',
				'y: abc',
				'a: *;audio',
				'j: *;video',
				'd: proxy',
				'C: application/sdp',
				'L: 4',
			], 'v=0\n'),
		);
		assert.deepEqual(
			m.headers.entries.map(([n]) => n),
			['via', 'from', 'to', 'call-id', 'cseq', 'contact', 'content-encoding', 'subject', 'supported', 'event', 'allow-events', 'refer-to', 'referred-by', 'session-expires', 'identity', 'accept-contact', 'reject-contact', 'request-disposition', 'content-type', 'content-length'],
		);
		assert.equal(m.headers.get('call-id'), 'compact@192.0.2.1');
		assert.equal(m.body.toString(), 'v=0\n');
	});

	it('unfolds continuation lines with SP or HTAB', () => {
		const m = request(sip(options(['Subject: first line', ' second line', '\tthird line', 'X-After: 1'])));
		assert.equal(m.headers.get('subject'), 'first line second line third line');
		assert.equal(m.headers.get('x-after'), '1');
	});

	it('keeps every Via line and does not split comma lists', () => {
		const m = request(
			sip([
				'BYE sip:b@192.0.2.2 SIP/2.0',
				'Via: SIP/2.0/UDP proxy2.example.com;branch=z9hG4bKp2, SIP/2.0/TCP proxy1.example.com:5061;branch=z9hG4bKp1',
				'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKua;received=198.51.100.7',
				'From: <sip:a@example.com>;tag=f1',
				'To: <sip:b@example.com>;tag=t1',
				'Call-ID: vias@192.0.2.1',
				'CSeq: 2 BYE',
				'Route: <sip:r1.example.com;lr>, <sip:r2.example.com;lr>',
			]),
		);
		assert.equal(m.headers.getAll('via').length, 2);
		assert.equal(m.headers.getAll('route').length, 1);
		const vias = getVias(m);
		assert.deepEqual(
			vias.map((v) => [v.transport, v.host, v.port, v.params['branch']]),
			[
				['UDP', 'proxy2.example.com', undefined, 'z9hG4bKp2'],
				['TCP', 'proxy1.example.com', 5061, 'z9hG4bKp1'],
				['UDP', '192.0.2.1', undefined, 'z9hG4bKua'],
			],
		);
		assert.equal(vias[2]!.params['received'], '198.51.100.7');
	});

	it('survives the whitespace torture (RFC 4475 wsinv style)', () => {
		const m = request(fixture('wsinv.txt'));
		assert.equal(m.uri, 'sip:room7@conf.example.org;oddparam');
		assert.equal(m.headers.get('to'), 'sip:room7@conf.example.org ;   tag    = 8321234356');
		assert.equal(m.headers.get('call-id'), 'ws.77aa9dd@198.51.100.1');
		assert.equal(m.headers.get('max-forwards'), '0042');
		assert.deepEqual(parseCSeq(m.headers.get('cseq')!), { seq: 12, method: 'INVITE' });
		assert.equal(m.headers.get('subject'), '');
		assert.equal(m.headers.get('weirdnewheader'), 'first part second part');
		assert.equal(m.headers.get('oddunknownvalue'), ';;,,;;,;');
		assert.equal(m.headers.get('content-type'), 'application/sdp');

		const to = parseNameAddr(m.headers.get('to')!);
		assert.equal(to.uri.user, 'room7');
		assert.equal(to.params['tag'], '8321234356');
		const from = parseNameAddr(m.headers.get('from')!);
		assert.equal(from.displayName, 'Mr \\"Quote\\" Man');
		assert.equal(from.params['tag'], '77cz1');
		const contact = parseNameAddr(m.headers.get('contact')!);
		assert.equal(contact.displayName, 'A "quoted" name');
		assert.deepEqual(contact.params, { newparam: 'newvalue', flagparam: null, q: '0.5' });
		const route = parseNameAddr(m.headers.get('route')!);
		assert.deepEqual(route.uri.params, { lr: null, unknownwith: 'value', 'unknown-no-value': null });

		const vias = getVias(m);
		assert.deepEqual(
			vias.map((v) => [v.protocol, v.transport, v.host, v.params['branch']]),
			[
				['SIP/2.0', 'UDP', '198.51.100.2', 'z9hG4bKws1'],
				['SIP/2.0', 'TCP', 'relay.example.org', 'z9hG4bKws2'],
				['SIP/2.0', 'UDP', '203.0.113.9', 'z9hG4bKws3'],
			],
		);
		assert.equal(m.body.length, 98);
		assert.ok(m.body.toString().endsWith('m=audio 40000 RTP/AVP 0\r\n'));
	});

	it('reads %-escapes in URIs (RFC 4475 esc01 style)', () => {
		const m = request(fixture('esc01.txt'));
		const ruri = parseUri(m.uri);
		assert.equal(ruri.user, 'sips:room@example.org');
		assert.equal(ruri.host, 'conf.example.net');
		assert.equal(parseNameAddr(m.headers.get('to')!).uri.user, 'room');
		assert.equal(parseNameAddr(m.headers.get('from')!).uri.user, 'I have spaces');
		const contact = parseNameAddr(m.headers.get('contact')!);
		assert.equal(contact.uri.user, 'caller');
		assert.deepEqual(contact.uri.params, { lr: null, name: 'value%41' });
		assert.equal(m.headers.get('call-id'), 'esc.81237zz');
	});

	it('accepts a token display name with no space before < (lwsdisp)', () => {
		const m = request(fixture('lwsdisp.txt'));
		assert.equal(m.method, 'OPTIONS');
		const from = parseNameAddr(m.headers.get('from')!);
		assert.equal(from.displayName, 'caller');
		assert.equal(from.uri.user, 'caller');
		assert.equal(from.params['tag'], '555');
		assert.equal(m.body.length, 0);
	});

	it('accepts every token character in a method and control chars in quoted-pairs (intmeth)', () => {
		const method = "!odd-Method0123456789_*+`.%indeed'~";
		const ruri = "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com";
		const m = request(
			sip([
				`${method} ${ruri} SIP/2.0`,
				"Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~",
				'To: "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" <sip:1_unusual.URI~(to-be!sure)&isn\'t+it$/crazy?,/;;*@example.com>',
				"From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"работает\";tag=_token~1'+`*%!-.",
				'Call-ID: intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{',
				`CSeq: 139122385 ${method}`,
				'Max-Forwards: 255',
				"extensionHeader-!.%*+_`'~: \uFEFF大停電",
				'Content-Length: 0',
			]),
		);
		assert.equal(m.method, method);
		assert.equal(m.uri, ruri);
		const u = parseUri(m.uri);
		assert.equal(u.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
		assert.equal(u.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
		assert.equal(parseNameAddr(m.headers.get('to')!).displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
		const from = parseNameAddr(m.headers.get('from')!);
		assert.equal(from.displayName, "token1~` token2'+_ token3*%!.-");
		assert.equal(from.params["fromparam''~+*_!.-%"], '"работает"');
		assert.equal(from.params['tag'], "_token~1'+`*%!-.");
		assert.equal(m.headers.get("extensionheader-!.%*+_`'~"), '\uFEFF大停電');
		assert.equal(getVias(m)[0]!.params['branch'], "z9hG4bK-.!%66*_+`'~");
	});

	it('reads IPv6 in the Request-URI, Via and Contact (RFC 5118)', () => {
		const m = request(fixture('ipv6.txt'));
		const ruri = parseUri(m.uri);
		assert.equal(ruri.host, '[2001:db8::10]');
		assert.equal(ruri.port, undefined);
		const [v1, v2] = getVias(m);
		assert.equal(v1!.host, '[2001:db8::9:1]');
		assert.equal(v1!.port, 5070);
		assert.equal(v1!.params['received'], '2001:db8::9:255');
		assert.equal(v1!.params['rport'], '5070');
		assert.equal(v2!.host, '[::ffff:192.0.2.1]');
		assert.equal(v2!.transport, 'TCP');
		const contact = parseNameAddr(m.headers.get('contact')!);
		assert.equal(contact.uri.host, '[2001:db8::9:1]');
		assert.equal(contact.uri.port, 5070);
		assert.equal(contact.uri.params['transport'], 'udp');
	});

	it('handles long values and many headers', () => {
		const longName = 'N'.repeat(4000);
		const vias = Array.from({ length: 70 }, (_, i) => `Via: SIP/2.0/UDP hop${i}.example.com;branch=z9hG4bKhop${i}`);
		const longUnknown = 'x'.repeat(20000);
		const m = request(sip(['REGISTER sip:example.com SIP/2.0', ...vias, `From: "${longName}" <sip:a@example.com>;tag=1`, 'To: <sip:a@example.com>', `Call-ID: ${'c'.repeat(1000)}@example.com`, 'CSeq: 1 REGISTER', `X-Long: ${longUnknown}`]));
		assert.equal(getVias(m).length, 70);
		assert.equal(getVias(m)[69]!.host, 'hop69.example.com');
		assert.equal(parseNameAddr(m.headers.get('from')!).displayName, longName);
		assert.equal(m.headers.get('x-long'), longUnknown);
	});

	it('keeps unknown headers in order, names lower-cased', () => {
		const m = request(sip(options(['X-Custom-One: a', 'P-Weird_Header: b c', 'X-Custom-One: d'])));
		assert.deepEqual(m.headers.getAll('x-custom-one'), ['a', 'd']);
		assert.equal(m.headers.get('p-weird_header'), 'b c');
		const names = m.headers.entries.map(([n]) => n);
		assert.deepEqual(names.slice(-3), ['x-custom-one', 'p-weird_header', 'x-custom-one']);
	});

	it('skips CRLFs before the start line', () => {
		const m = request(Buffer.concat([Buffer.from('\r\n\r\n\r\n'), sip(options())]));
		assert.equal(m.method, 'OPTIONS');
	});

	it('accepts any SIP/x.y version and normalises the SIP part', () => {
		const lines = options();
		lines[0] = 'OPTIONS sip:b@example.com SIP/7.0';
		assert.equal(request(sip(lines)).version, 'SIP/7.0');
		lines[0] = 'OPTIONS sip:b@example.com sip/2.0';
		assert.equal(request(sip(lines)).version, 'SIP/2.0');
	});

	it('passes unknown URI schemes through for the caller to answer 416', () => {
		const lines = options();
		lines[0] = 'OPTIONS urn:service:sos SIP/2.0';
		assert.equal(request(sip(lines)).uri, 'urn:service:sos');
	});

	it('takes the body by Content-Length, the rest when it is missing', () => {
		const cut = request(sip(options(['Content-Type: text/plain', 'Content-Length: 5']), 'hello world'));
		assert.equal(cut.body.toString(), 'hello');
		const rest = request(sip(options(['Content-Type: text/plain']), 'hello world'));
		assert.equal(rest.body.toString(), 'hello world');
		const none = request(sip(options()));
		assert.equal(none.body.length, 0);
	});

	it('copies the body out of the input buffer', () => {
		const buf = sip(options(['Content-Length: 3']), 'abc');
		const m = request(buf);
		buf.fill(0x21);
		assert.equal(m.body.toString(), 'abc');
	});

	it('accepts bare LF line ends', () => {
		const m = request(Buffer.from(options(['Content-Length: 2']).join('\n') + '\n\nhi'));
		assert.equal(m.headers.get('call-id'), 'base-call@192.0.2.1');
		assert.equal(m.body.toString(), 'hi');
	});

	it('ends the header section at a bare-LF blank line even when CRLFCRLF follows in the body', () => {
		const m = request(Buffer.from(options(['Content-Type: text/plain']).join('\r\n') + '\r\n\nbody\r\n\r\nmore'));
		assert.equal(m.headers.get('content-type'), 'text/plain');
		assert.equal(m.body.toString(), 'body\r\n\r\nmore');
	});

	it('decodes UTF-8 in header values and keeps the body bytes', () => {
		const body = Buffer.from([0xff, 0x00, 0xc3, 0x28]);
		const head = sip(options(['Subject: Встреча über café', 'Content-Length: 4']));
		const m = request(Buffer.concat([head, body]));
		assert.equal(m.headers.get('subject'), 'Встреча über café');
		assert.deepEqual(m.body, body);
	});
});

describe('parseMessage: responses', () => {
	it('parses a 180 with its Via stack and Record-Route', () => {
		const m = response(fixture('response-180.txt'));
		assert.equal(m.status, 180);
		assert.equal(m.reason, 'Ringing');
		assert.equal(m.version, 'SIP/2.0');
		assert.equal(m.headers.getAll('via').length, 2);
		assert.equal(m.headers.get('record-route'), '<sip:proxy.example.com;lr>');
	});

	it('accepts reason phrases with spaces, UTF-8, or nothing at all', () => {
		const rest = BASE.filter((l) => !l.startsWith('Max-Forwards'));
		assert.equal(response(sip(['SIP/2.0 486 Busy Here Right Now', ...rest])).reason, 'Busy Here Right Now');
		assert.equal(response(sip(['SIP/2.0 200 Très bien', ...rest])).reason, 'Très bien');
		assert.equal(response(sip(['SIP/2.0 100 ', ...rest])).reason, '');
		assert.equal(response(sip(['SIP/2.0 100', ...rest])).reason, '');
	});

	it('rejects a response without mandatory headers, with no partial', () => {
		const err = parseError(sip(['SIP/2.0 200 OK', ...BASE.filter((l) => !l.startsWith('Call-ID'))]), 'Missing Call-ID header');
		assert.equal(err.partial, undefined);
	});
});

describe('parseMessage: invalid messages', () => {
	it('reports a missing Call-ID and keeps what was read in partial', () => {
		const err = parseError(sip(options([], 'Call-ID')), 'Missing Call-ID header');
		assert.ok(err.partial);
		assert.equal(err.partial.method, 'OPTIONS');
		assert.equal(err.partial.uri, 'sip:b@example.com');
		assert.equal(err.partial.headers.get('via'), 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKbase1');
		assert.equal(err.partial.headers.get('cseq'), '1 OPTIONS');
	});

	for (const [name, display] of [
		['Via', 'Via'],
		['From', 'From'],
		['To', 'To'],
		['CSeq', 'CSeq'],
	] as const) {
		it(`reports a missing ${display}`, () => {
			parseError(sip(options([], name)), `Missing ${display} header`);
		});
	}

	it('rejects a CSeq method that differs from the request method', () => {
		const lines = options();
		lines[0] = 'INFO sip:b@example.com SIP/2.0';
		const err = parseError(sip(lines), 'CSeq method does not match request method');
		assert.equal(err.partial?.method, 'INFO');
		// ACK and CANCEL must carry their own method, not the INVITE's.
		const ack = ['ACK sip:b@example.com SIP/2.0', ...BASE.filter((l) => !l.startsWith('CSeq')), 'CSeq: 1 INVITE'];
		parseError(sip(ack), 'CSeq method does not match request method');
		// Methods are case-sensitive.
		parseError(sip(['OPTIONS sip:b@example.com SIP/2.0', ...BASE.filter((l) => !l.startsWith('CSeq')), 'CSeq: 1 options']), 'CSeq method does not match request method');
	});

	for (const cseq of ['abc OPTIONS', '1', 'OPTIONS', '2147483648 OPTIONS', '99999999999 OPTIONS', '1 OPTIONS extra', '-1 OPTIONS']) {
		it(`rejects CSeq '${cseq}' as malformed`, () => {
			const err = parseError(sip([...options([], 'CSeq'), `CSeq: ${cseq}`]), 'Malformed CSeq');
			assert.ok(err.partial);
		});
	}

	for (const line of [
		'HELLO',
		'INVITE',
		'INVITE sip:b@example.com',
		'INVITE sip:b@example.com SIP/2.0 ',
		'INVITE sip:b@example.com HTTP/1.1',
		'INVITE sip:b@example.com SIP/2',
		'INVITE sip:b@example.com SIP/2.x',
		'IN(VITE sip:b@example.com SIP/2.0',
		'GET / HTTP/1.1',
		' INVITE sip:b@example.com SIP/2.0',
		'SIP/2.0',
		'SIP/ 200 OK',
	]) {
		it(`rejects start line ${JSON.stringify(line)}`, () => {
			const err = parseError(sip([line, ...BASE]), 'Malformed start line');
			assert.equal(err.partial, undefined);
		});
	}

	for (const uri of ['<sip:b@example.com>', 'b@example.com', 'sip:', ':b', 'sip:b@exa"mple.com', '1sip:b', 'sip:b@example.com; lr', ' sip:b@example.com', 'sip:b@example.com ', '']) {
		it(`rejects Request-URI ${JSON.stringify(uri)}, keeping the headers`, () => {
			const err = parseError(sip([`OPTIONS ${uri} SIP/2.0`, ...BASE]), 'Malformed Request-URI');
			assert.equal(err.partial?.headers.get('call-id'), 'base-call@192.0.2.1');
		});
	}

	for (const line of ['SIP/2.0 abc OK', 'SIP/2.0 2000 OK', 'SIP/2.0 20 OK', 'SIP/2.0 099 Low', 'SIP/2.0 700 High', 'SIP/2.0 200OK']) {
		it(`rejects status line ${JSON.stringify(line)}`, () => {
			const err = parseError(sip([line, ...BASE]), 'Malformed status code');
			assert.equal(err.partial, undefined);
		});
	}

	it('rejects binary garbage', () => {
		const err = parseError(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a]), 'Malformed start line');
		assert.equal(err.partial, undefined);
	});

	it('rejects a Content-Length larger than the message', () => {
		const err = parseError(sip(options(['Content-Length: 50']), 'short body'), 'Content-Length exceeds message');
		assert.equal(err.partial?.headers.get('call-id'), 'base-call@192.0.2.1');
		parseError(sip(options(['Content-Length: 99999999999999999999999']), 'x'), 'Content-Length exceeds message');
	});

	for (const cl of ['-5', 'abc', '1 2', '0x10', '+3', '']) {
		it(`rejects Content-Length ${JSON.stringify(cl)}`, () => {
			const err = parseError(sip(options([`Content-Length: ${cl}`]), 'abc'), 'Malformed Content-Length');
			assert.ok(err.partial);
		});
	}

	it('rejects conflicting Content-Length headers', () => {
		parseError(sip(options(['Content-Length: 3', 'l: 2']), 'abc'), 'Conflicting Content-Length headers');
	});

	it('rejects a header line without a colon, keeping the lines around it', () => {
		const lines = ['INVITE sip:b@example.com SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKnc', 'This line has no colon', 'From: <sip:a@example.com>;tag=1', 'To: <sip:b@example.com>', 'Call-ID: nocolon@x', 'CSeq: 5 INVITE'];
		const err = parseError(sip(lines), 'Malformed header (no colon)');
		assert.ok(err.partial);
		assert.equal(err.partial.headers.get('via'), 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKnc');
		assert.equal(err.partial.headers.get('call-id'), 'nocolon@x');
		assert.equal(err.partial.headers.get('cseq'), '5 INVITE');
		parseError(sip(options([': no name'])), 'Malformed header (no colon)');
		parseError(sip(options(['Bad Name: x'])), 'Malformed header (no colon)');
	});

	it('rejects a continuation line right after the start line', () => {
		parseError(sip(['OPTIONS sip:b@example.com SIP/2.0', ' folded', ...BASE]), 'Malformed header (continuation of start line)');
	});

	it('rejects more than MAX_HEADERS header lines', () => {
		const many = Array.from({ length: MAX_HEADERS }, (_, i) => `X-H${i}: ${i}`);
		const err = parseError(sip(options(many)), 'Too many headers');
		assert.ok(err.partial);
		// Exactly at the limit is fine.
		request(sip(options(many.slice(0, MAX_HEADERS - BASE.length))));
	});

	it('rejects duplicated single-value headers', () => {
		parseError(sip(options(['Call-ID: second@x'])), 'Multiple Call-ID headers');
		parseError(sip(options(['f: <sip:c@example.com>;tag=2'])), 'Multiple From headers');
		parseError(sip(options(['To: <sip:c@example.com>'])), 'Multiple To headers');
	});

	for (const mf of ['abc', '256', '-1', '1 2']) {
		it(`rejects Max-Forwards ${JSON.stringify(mf)}`, () => {
			parseError(sip(['OPTIONS sip:b@example.com SIP/2.0', ...BASE.filter((l) => !l.startsWith('Max-Forwards')), `Max-Forwards: ${mf}`]), 'Malformed Max-Forwards');
		});
	}

	for (const via of ['SIP/2.0 192.0.2.1', 'SIP/2.0/UDP', 'SIP/2.0/UDP 192.0.2.1:99999', 'SIP/2.0/UDP bad_host', 'SIP/2.0/UDP [::1;branch=z9hG4bK1', 'SIP/2.0/UDP 192.0.2.1;ttl=300', 'garbage']) {
		it(`rejects top Via ${JSON.stringify(via)}`, () => {
			const err = parseError(sip(['OPTIONS sip:b@example.com SIP/2.0', `Via: ${via}`, ...BASE.filter((l) => !l.startsWith('Via'))]), 'Malformed Via header');
			assert.ok(err.partial);
		});
	}

	it('rejects empty input and keep-alive CRLFs', () => {
		parseError(Buffer.alloc(0), 'Empty message');
		parseError(Buffer.from('\r\n\r\n'), 'Empty message');
	});

	it('rejects a header section with no blank line', () => {
		const err = parseError(Buffer.from(options().join('\r\n') + '\r\n'), 'Incomplete header section');
		assert.equal(err.partial?.headers.get('cseq'), '1 OPTIONS');
	});

	it('rejects a bare CR inside a header or the start line', () => {
		const err = parseError(sip(options(['Subject: a\rInjected: b', 'X-Later: 1'])), 'Bare CR in message header');
		assert.equal(err.partial?.headers.get('subject'), undefined);
		assert.equal(err.partial?.headers.get('x-later'), '1');
		const lines = options();
		lines[0] = 'OPTIONS sip:b@example.com\rX SIP/2.0';
		assert.equal(parseError(sip(lines), 'Bare CR in start line').partial, undefined);
	});
});

describe('parseMessage: result shape', () => {
	it('returns plain request and response objects', () => {
		const m: SipMessage = parseMessage(sip(options()));
		assert.equal(m.kind, 'request');
		assert.equal(m.source, undefined);
		assert.ok(Buffer.isBuffer(m.body));
	});
});
