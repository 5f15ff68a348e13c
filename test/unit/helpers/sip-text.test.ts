import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildSdp, buildSip, headerParam, hostPortOf, parseSdpAudio, parseSip, splitList, uriOf } from '../../helpers/sip-text.js';

describe('test helper: sip-text', () => {
	it('parses a response with compact headers, a folded line and a body cut by Content-Length', () => {
		const text =
			'SIP/2.0 200 OK\r\n' +
			'v: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKa, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKb\r\n' +
			'f: "A, B" <sip:a@x>;tag=1\r\n' +
			't: <sip:1000@x>;tag=abc\r\n' +
			'i: cid@x\r\n' +
			'CSeq: 7 INVITE\r\n' +
			'Subject: one\r\n two\r\n' +
			'm: <sip:srv@127.0.0.1:5060;transport=udp>\r\n' +
			'Record-Route: <sip:p1;lr>, <sip:p2;lr>\r\n' +
			'l: 4\r\n\r\nbodyEXTRA';
		const m = parseSip(text);
		assert.equal(m.isRequest, false);
		assert.equal(m.status, 200);
		assert.equal(m.reason, 'OK');
		assert.equal(m.body, 'body');
		assert.equal(m.callId, 'cid@x');
		assert.deepEqual(m.cseq, { seq: 7, method: 'INVITE' });
		assert.equal(m.branch, 'z9hG4bKa');
		assert.equal(m.headerAll('via').length, 2);
		assert.equal(m.header('From'), '"A, B" <sip:a@x>;tag=1');
		assert.equal(headerParam(m.header('to') as string, 'tag'), 'abc');
		assert.equal(m.header('subject'), 'one two');
		assert.equal(uriOf(m.header('contact') as string), 'sip:srv@127.0.0.1:5060;transport=udp');
		assert.deepEqual(m.headerAll('record-route'), ['<sip:p1;lr>', '<sip:p2;lr>']);
	});

	it('parses a request and rejects garbage', () => {
		const m = parseSip('\r\nBYE sip:u@127.0.0.1:5000 SIP/2.0\r\nCall-ID: x\r\n\r\n');
		assert.equal(m.method, 'BYE');
		assert.equal(m.uri, 'sip:u@127.0.0.1:5000');
		assert.throws(() => parseSip('hello world\r\n\r\n'), /bad SIP start line/);
	});

	it('builds messages with Content-Length in bytes', () => {
		const t = buildSip('OPTIONS sip:x SIP/2.0', [['Call-ID', 'a']], 'é');
		assert.match(t, /Content-Length: 2\r\n\r\né$/);
		assert.equal(parseSip(t).body, 'é');
	});

	it('splits lists and finds URIs', () => {
		assert.deepEqual(splitList('<sip:a,b>;x=1, "c,d" <sip:e>'), ['<sip:a,b>;x=1', '"c,d" <sip:e>']);
		assert.deepEqual(hostPortOf('sip:1000@127.0.0.1:5080;transport=udp'), { host: '127.0.0.1', port: 5080 });
		assert.deepEqual(hostPortOf('sip:example.com'), { host: 'example.com', port: 5060 });
		assert.equal(uriOf('sip:a@b;tag=1'), 'sip:a@b');
	});

	it('round-trips its own SDP and reads static payload types without rtpmap', () => {
		const sdp = buildSdp({ address: '127.0.0.1', port: 4000, codecs: ['PCMA', 'PCMU'], dtmfPt: 101, sessionId: 1, version: 1 });
		const a = parseSdpAudio(sdp);
		assert.ok(a);
		assert.equal(a.port, 4000);
		assert.equal(a.address, '127.0.0.1');
		assert.deepEqual(a.codecs.map((c) => c.name), ['PCMA', 'PCMU', 'TELEPHONE-EVENT']);
		const b = parseSdpAudio('v=0\r\nc=IN IP4 10.0.0.1\r\nm=video 5000 RTP/AVP 96\r\nm=audio 6000 RTP/AVP 0 8\r\na=recvonly\r\n');
		assert.ok(b);
		assert.equal(b.address, '10.0.0.1');
		assert.equal(b.port, 6000);
		assert.equal(b.direction, 'recvonly');
		assert.deepEqual(b.codecs.map((c) => c.pt), [0, 8]);
		assert.equal(parseSdpAudio('v=0\r\n'), null);
	});
});
