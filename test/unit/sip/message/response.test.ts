import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SipParseError } from '../../../../src/common/errors.js';
import { createResponse, parseMessage, parseNameAddr, reasonPhrase, serializeMessage, type SipRequest } from '../../../../src/sip/message/index.js';

function req(method: string, extra: string[] = [], to = 'To: "Room" <sip:2001@conf.example.com>'): SipRequest {
	const lines = [
		`${method} sip:2001@conf.example.com SIP/2.0`,
		'Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1;received=192.0.2.101',
		'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKua1;rport=5060',
		'Record-Route: <sip:proxy.example.com;lr>',
		'Record-Route: <sip:edge.example.com;lr>',
		'Max-Forwards: 69',
		to,
		'From: "Alice" <sip:alice@example.com>;tag=1928301774',
		'Call-ID: resp-test@192.0.2.10',
		`CSeq: 7 ${method}`,
		'Contact: <sip:alice@192.0.2.10>',
		'Timestamp: 54',
		...extra,
	];
	const m = parseMessage(Buffer.from(lines.join('\r\n') + '\r\n\r\n'));
	assert.equal(m.kind, 'request');
	return m as SipRequest;
}

describe('createResponse', () => {
	it('copies Via (in order), From, To, Call-ID and CSeq verbatim', () => {
		const res = createResponse(req('OPTIONS'), 200);
		assert.equal(res.kind, 'response');
		assert.equal(res.status, 200);
		assert.equal(res.reason, 'OK');
		assert.equal(res.version, 'SIP/2.0');
		assert.deepEqual(res.headers.entries, [
			['via', 'SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1;received=192.0.2.101'],
			['via', 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKua1;rport=5060'],
			['from', '"Alice" <sip:alice@example.com>;tag=1928301774'],
			['to', '"Room" <sip:2001@conf.example.com>'],
			['call-id', 'resp-test@192.0.2.10'],
			['cseq', '7 OPTIONS'],
		]);
		assert.equal(res.body.length, 0);
	});

	it('adds the To tag when the request has none, except on 100', () => {
		const r = req('INVITE');
		const ringing = createResponse(r, 180, undefined, { toTag: 'srv42' });
		assert.equal(ringing.headers.get('to'), '"Room" <sip:2001@conf.example.com>;tag=srv42');
		assert.equal(parseNameAddr(ringing.headers.get('to')!).params['tag'], 'srv42');
		const trying = createResponse(r, 100, undefined, { toTag: 'srv42' });
		assert.equal(trying.headers.get('to'), '"Room" <sip:2001@conf.example.com>');
		assert.equal(createResponse(r, 200).headers.get('to'), '"Room" <sip:2001@conf.example.com>');
	});

	it('keeps an existing To tag (in-dialog requests)', () => {
		const r = req('BYE', [], 'To: <sip:2001@conf.example.com>;tag=existing');
		assert.equal(createResponse(r, 200, undefined, { toTag: 'other' }).headers.get('to'), '<sip:2001@conf.example.com>;tag=existing');
		const spec = req('BYE', [], 'To: sip:2001@conf.example.com ; TAG = existing');
		assert.equal(createResponse(spec, 200, undefined, { toTag: 'other' }).headers.get('to'), 'sip:2001@conf.example.com ; TAG = existing');
	});

	it('copies Record-Route on 101-299 to dialog-creating requests only', () => {
		const rr = ['<sip:proxy.example.com;lr>', '<sip:edge.example.com;lr>'];
		assert.deepEqual(createResponse(req('INVITE'), 180).headers.getAll('record-route'), rr);
		assert.deepEqual(createResponse(req('INVITE'), 200).headers.getAll('record-route'), rr);
		assert.deepEqual(createResponse(req('SUBSCRIBE'), 202).headers.getAll('record-route'), rr);
		assert.deepEqual(createResponse(req('INVITE'), 100).headers.getAll('record-route'), []);
		assert.deepEqual(createResponse(req('INVITE'), 486).headers.getAll('record-route'), []);
		assert.deepEqual(createResponse(req('OPTIONS'), 200).headers.getAll('record-route'), []);
	});

	it('copies Timestamp into 100 Trying only', () => {
		assert.equal(createResponse(req('INVITE'), 100).headers.get('timestamp'), '54');
		assert.equal(createResponse(req('INVITE'), 180).headers.get('timestamp'), undefined);
	});

	it('adds extra headers, a body and its Content-Type; the wire form has the right Content-Length', () => {
		const sdp = Buffer.from('v=0\r\no=- 1 1 IN IP4 192.0.2.20\r\ns=-\r\n');
		const res = createResponse(req('INVITE'), 200, 'Fine', {
			toTag: 't1',
			headers: [
				['Contact', '<sip:2001@192.0.2.20>'],
				['Supported', 'timer'],
			],
			body: sdp,
			contentType: 'application/sdp',
		});
		assert.equal(res.reason, 'Fine');
		assert.equal(res.headers.get('contact'), '<sip:2001@192.0.2.20>');
		assert.equal(res.headers.get('content-type'), 'application/sdp');
		const wire = serializeMessage(res).toString();
		assert.ok(wire.startsWith('SIP/2.0 200 Fine\r\nVia: SIP/2.0/UDP proxy.example.com'));
		assert.ok(wire.includes(`\r\nContent-Length: ${sdp.length}\r\n\r\nv=0`));
		const back = parseMessage(Buffer.from(wire));
		assert.deepEqual(back.body, sdp);
	});

	it('answers the partial request of a parse error', () => {
		const text = 'INVITE sip:2001@conf.example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKbad\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:2001@conf.example.com>\r\nCSeq: 1 INVITE\r\n\r\n';
		let partial: SipRequest | undefined;
		try {
			parseMessage(Buffer.from(text));
		} catch (err) {
			assert.ok(err instanceof SipParseError);
			assert.equal(err.message, 'Missing Call-ID header');
			partial = err.partial;
		}
		assert.ok(partial);
		const res = createResponse(partial, 400, 'Missing Call-ID header');
		assert.equal(res.headers.get('via'), 'SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKbad');
		assert.equal(res.headers.get('call-id'), undefined);
		assert.ok(serializeMessage(res).toString().startsWith('SIP/2.0 400 Missing Call-ID header\r\n'));
	});

	it('rejects status codes outside 100-699', () => {
		assert.throws(() => createResponse(req('OPTIONS'), 99), RangeError);
		assert.throws(() => createResponse(req('OPTIONS'), 700), RangeError);
		assert.throws(() => createResponse(req('OPTIONS'), 200.5), RangeError);
	});
});

describe('reasonPhrase', () => {
	it('knows the common codes', () => {
		const want: Record<number, string> = {
			100: 'Trying',
			180: 'Ringing',
			181: 'Call Is Being Forwarded',
			182: 'Queued',
			183: 'Session Progress',
			200: 'OK',
			202: 'Accepted',
			400: 'Bad Request',
			401: 'Unauthorized',
			403: 'Forbidden',
			404: 'Not Found',
			405: 'Method Not Allowed',
			407: 'Proxy Authentication Required',
			408: 'Request Timeout',
			413: 'Request Entity Too Large',
			415: 'Unsupported Media Type',
			420: 'Bad Extension',
			423: 'Interval Too Brief',
			480: 'Temporarily Unavailable',
			481: 'Call/Transaction Does Not Exist',
			482: 'Loop Detected',
			483: 'Too Many Hops',
			486: 'Busy Here',
			487: 'Request Terminated',
			488: 'Not Acceptable Here',
			491: 'Request Pending',
			500: 'Server Internal Error',
			501: 'Not Implemented',
			503: 'Service Unavailable',
			504: 'Server Time-out',
			505: 'Version Not Supported',
			513: 'Message Too Large',
			603: 'Decline',
		};
		for (const [code, phrase] of Object.entries(want)) {
			assert.equal(reasonPhrase(Number(code)), phrase, code);
		}
	});

	it('falls back to a phrase for the class', () => {
		assert.equal(reasonPhrase(299), 'OK');
		assert.equal(reasonPhrase(499), 'Request Failure');
		assert.equal(reasonPhrase(599), 'Server Failure');
		assert.equal(reasonPhrase(699), 'Global Failure');
	});
});
