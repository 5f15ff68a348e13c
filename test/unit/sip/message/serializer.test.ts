import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SipHeaders, headerDisplayName, parseMessage, serializeMessage, type SipRequest, type SipResponse } from '../../../../src/sip/message/index.js';

function fixture(name: string): Buffer {
	const url = new URL(`../../../../../test/fixtures/sip/${name}`, import.meta.url);
	return Buffer.from(readFileSync(url, 'utf8').replace(/\r?\n/g, '\r\n'), 'utf8');
}

describe('serializeMessage', () => {
	for (const name of ['invite-sdp.txt', 'wsinv.txt', 'esc01.txt', 'lwsdisp.txt', 'ipv6.txt', 'response-180.txt']) {
		it(`round-trips ${name}: parse → serialize → parse gives the same message`, () => {
			const first = parseMessage(fixture(name));
			const wire = serializeMessage(first);
			const second = parseMessage(wire);
			assert.deepEqual(second, first);
			// And serializing again is byte-stable.
			assert.deepEqual(serializeMessage(second), wire);
		});
	}

	it('writes an ordinary INVITE back byte for byte', () => {
		const input = fixture('invite-sdp.txt');
		assert.deepEqual(serializeMessage(parseMessage(input)), input);
	});

	it('sets Content-Length from the body, replacing any existing ones', () => {
		const headers = new SipHeaders()
			.append('via', 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKcl')
			.append('content-length', '999')
			.append('from', '<sip:a@example.com>;tag=1')
			.append('to', '<sip:b@example.com>')
			.append('call-id', 'cl@x')
			.append('cseq', '1 MESSAGE')
			.append('content-type', 'text/plain;charset=utf-8')
			.append('content-length', '7');
		const body = Buffer.from('Grüße, 世界', 'utf8');
		const req: SipRequest = { kind: 'request', method: 'MESSAGE', uri: 'sip:b@example.com', version: 'SIP/2.0', headers, body };
		const text = serializeMessage(req).toString('utf8');
		assert.equal(text.match(/Content-Length/g)?.length, 1);
		assert.ok(text.startsWith(`MESSAGE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKcl\r\nContent-Length: ${body.length}\r\nFrom:`));
		assert.equal(body.length, 15);
		const back = parseMessage(serializeMessage(req));
		assert.deepEqual(back.body, body);
		assert.equal(back.headers.get('content-length'), '15');
		// The input message is left alone.
		assert.equal(headers.getAll('content-length').length, 2);
	});

	it('writes Content-Length: 0 for an empty body, and binary bodies untouched', () => {
		const res: SipResponse = { kind: 'response', status: 200, reason: 'OK', version: 'SIP/2.0', headers: new SipHeaders().append('call-id', 'x'), body: Buffer.alloc(0) };
		assert.equal(serializeMessage(res).toString(), 'SIP/2.0 200 OK\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n');
		const bin = Buffer.from([0, 255, 13, 10, 13, 10, 1]);
		const wire = serializeMessage({ ...res, body: bin });
		assert.deepEqual(wire.subarray(wire.length - bin.length), bin);
	});

	it('uses CRLF for every line', () => {
		const text = serializeMessage(parseMessage(Buffer.from(readFileSync(new URL('../../../../../test/fixtures/sip/lwsdisp.txt', import.meta.url), 'utf8').replace(/\n/g, '\r\n')))).toString();
		assert.equal(/[^\r]\n/.test(text), false);
		assert.ok(text.endsWith('\r\n\r\n'));
	});

	it('spells header names conventionally', () => {
		const cases: Array<[string, string]> = [
			['via', 'Via'],
			['call-id', 'Call-ID'],
			['cseq', 'CSeq'],
			['www-authenticate', 'WWW-Authenticate'],
			['proxy-authenticate', 'Proxy-Authenticate'],
			['record-route', 'Record-Route'],
			['max-forwards', 'Max-Forwards'],
			['content-type', 'Content-Type'],
			['min-se', 'Min-SE'],
			['rseq', 'RSeq'],
			['rack', 'RAck'],
			['p-asserted-identity', 'P-Asserted-Identity'],
			['refer-to', 'Refer-To'],
			['referred-by', 'Referred-By'],
			['session-expires', 'Session-Expires'],
			['subscription-state', 'Subscription-State'],
			['allow-events', 'Allow-Events'],
			['call-info', 'Call-Info'],
			['mime-version', 'MIME-Version'],
			['sip-etag', 'SIP-ETag'],
			['x-my-custom-header', 'X-My-Custom-Header'],
			['newfangledheader', 'Newfangledheader'],
		];
		for (const [name, want] of cases) {
			assert.equal(headerDisplayName(name), want);
		}
	});

	it('refuses values that would inject header lines', () => {
		const headers = new SipHeaders().append('subject', 'hi\r\nInjected: yes');
		const res: SipResponse = { kind: 'response', status: 200, reason: 'OK', version: 'SIP/2.0', headers, body: Buffer.alloc(0) };
		assert.throws(() => serializeMessage(res), TypeError);
		assert.throws(() => serializeMessage({ ...res, headers: new SipHeaders(), reason: 'OK\nX: y' }), TypeError);
	});
});
