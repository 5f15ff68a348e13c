import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildMessage, buildResponse, buildSdp, header, parseSdp, parseSip, tagOf, uriOf } from '../../../bench/load/sip.js';

const RESPONSE = [
	'SIP/2.0 200 OK',
	'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc;rport=5070',
	'f: <sip:bench-r0p0@127.0.0.1:5070>;tag=aaa',
	't: <sip:100000@127.0.0.1:5060>;tag=bbb',
	'i: call-1@bench',
	'CSeq: 1 INVITE',
	'm: <sip:100000@127.0.0.1:5060;transport=udp>',
	'Record-Route: <sip:p1;lr>,',
	' <sip:p2;lr>',
	'Content-Type: application/sdp',
	'Content-Length: 10',
	'',
	'v=0\r\nx=1',
].join('\r\n');

test('parses a response with compact headers and a folded line', () => {
	const m = parseSip(RESPONSE)!;
	assert.equal(m.isRequest, false);
	assert.equal(m.status, 200);
	assert.equal(m.reason, 'OK');
	assert.equal(header(m, 'call-id'), 'call-1@bench');
	assert.equal(tagOf(header(m, 'to')), 'bbb');
	assert.equal(tagOf(header(m, 'from')), 'aaa');
	assert.equal(uriOf(header(m, 'contact')!), 'sip:100000@127.0.0.1:5060;transport=udp');
	assert.equal(header(m, 'record-route'), '<sip:p1;lr>, <sip:p2;lr>');
	assert.equal(m.body, 'v=0\r\nx=1');
	assert.equal(parseSip('garbage'), null);
	assert.equal(parseSip('SIP/2.0 abc'), null);
});

test('a request and the response built for it', () => {
	const text = buildMessage('BYE sip:x@127.0.0.1 SIP/2.0', [
		['Via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1'],
		['From', '<sip:100000@127.0.0.1>;tag=s1'],
		['To', '<sip:bench@127.0.0.1>;tag=c1'],
		['Call-ID', 'c'],
		['CSeq', '7 BYE'],
	]);
	assert.match(text, /Content-Length: 0\r\n\r\n$/);
	const req = parseSip(text)!;
	assert.equal(req.isRequest, true);
	assert.equal(req.method, 'BYE');
	const res = parseSip(buildResponse(req, 200, 'OK', 'zz'))!;
	assert.equal(res.status, 200);
	assert.equal(header(res, 'cseq'), '7 BYE');
	assert.equal(tagOf(header(res, 'to')), 'c1', 'an existing To tag is kept');
	assert.equal(header(res, 'via'), 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1');
});

test('SDP offer and answer parsing', () => {
	const sdp = buildSdp({ host: '127.0.0.1', port: 40_000, sessionId: 1, pt: 111, rtpmap: 'opus/48000/2', fmtp: 'useinbandfec=0', telephoneEventPt: 101 });
	assert.match(sdp, /m=audio 40000 RTP\/AVP 111 101\r\n/);
	assert.match(sdp, /a=fmtp:111 useinbandfec=0/);
	const a = parseSdp(sdp)!;
	assert.equal(a.host, '127.0.0.1');
	assert.equal(a.port, 40_000);
	assert.deepEqual(a.payloads, [111, 101]);
	assert.equal(a.encodings.get(111), 'opus');
	assert.equal(a.encodings.get(101), 'telephone-event');
	assert.equal(parseSdp('v=0\r\n'), null);
});
