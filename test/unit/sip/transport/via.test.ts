import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SipHeaders, type SipAddress, type SipRequest } from '../../../../src/sip/message/types.js';
import { responseDestination, stampReceived } from '../../../../src/sip/transport/via.js';

function request(...vias: string[]): SipRequest {
	const h = new SipHeaders();
	for (const v of vias) {
		h.append('via', v);
	}
	h.append('cseq', '1 OPTIONS');
	return { kind: 'request', method: 'OPTIONS', uri: 'sip:a@b', version: 'SIP/2.0', headers: h, body: Buffer.alloc(0) };
}

const FROM_NAT: SipAddress = { transport: 'udp', address: '192.0.2.1', port: 9988 };

describe('stampReceived (§18.2.1, RFC 3581)', () => {
	it('adds received and fills rport, touching only the top via-parm', () => {
		const req = request('SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff, SIP/2.0/UDP proxy.example.com;branch=z9hG4bK2', 'SIP/2.0/UDP x.example.com');
		stampReceived(req, FROM_NAT);
		assert.deepEqual(req.headers.getAll('via'), [
			'SIP/2.0/UDP 10.1.1.1:4540;rport=9988;branch=z9hG4bKkjshdyff;received=192.0.2.1, SIP/2.0/UDP proxy.example.com;branch=z9hG4bK2',
			'SIP/2.0/UDP x.example.com',
		]);
	});

	it('adds nothing when the host is the source and there is no rport', () => {
		const req = request('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1');
		stampReceived(req, FROM_NAT);
		assert.equal(req.headers.get('via'), 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1');
	});

	it('adds received with an empty rport even when the host matches (RFC 3581 §4)', () => {
		const req = request('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport');
		stampReceived(req, FROM_NAT);
		assert.equal(req.headers.get('via'), 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport=9988;received=192.0.2.1');
	});

	it('adds received for a host name and leaves a filled rport alone', () => {
		const req = request('SIP/2.0/UDP pc33.example.com;rport=1234;branch=z9hG4bK1');
		stampReceived(req, FROM_NAT);
		assert.equal(req.headers.get('via'), 'SIP/2.0/UDP pc33.example.com;rport=1234;branch=z9hG4bK1;received=192.0.2.1');
	});

	it('replaces a stale received', () => {
		const req = request('SIP/2.0/UDP 10.0.0.1;received=1.2.3.4;branch=z9hG4bK1');
		stampReceived(req, FROM_NAT);
		assert.equal(req.headers.get('via'), 'SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1;received=192.0.2.1');
	});

	it('returns false without a readable Via', () => {
		assert.equal(stampReceived(request(), FROM_NAT), false);
		assert.equal(stampReceived(request('garbage'), FROM_NAT), false);
	});
});

describe('responseDestination (§18.2.2)', () => {
	it('UDP: received and rport', () => {
		const req = request('SIP/2.0/UDP 10.1.1.1:4540;received=192.0.2.1;rport=9988;branch=z9hG4bK1');
		req.source = FROM_NAT;
		assert.deepEqual(responseDestination(req), { transport: 'udp', address: '192.0.2.1', port: 9988 });
	});

	it('UDP: received without rport uses the sent-by port', () => {
		const req = request('SIP/2.0/UDP 10.1.1.1:4540;received=192.0.2.1;branch=z9hG4bK1');
		req.source = FROM_NAT;
		assert.deepEqual(responseDestination(req), { transport: 'udp', address: '192.0.2.1', port: 4540 });
	});

	it('UDP: the Via host and default port otherwise, maddr first', () => {
		const req = request('SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1');
		req.source = FROM_NAT;
		assert.deepEqual(responseDestination(req), { transport: 'udp', address: '192.0.2.1', port: 5060 });
		const m = request('SIP/2.0/UDP 192.0.2.1:5070;maddr=239.1.1.1;received=192.0.2.1;branch=z9hG4bK1');
		assert.deepEqual(responseDestination(m), { transport: 'udp', address: '239.1.1.1', port: 5070 });
	});

	it('TCP: the connection, with received and the sent-by port as fallback', () => {
		const req = request('SIP/2.0/TCP 10.1.1.1:5080;received=192.0.2.1;branch=z9hG4bK1');
		req.source = { transport: 'tcp', address: '192.0.2.1', port: 40111, connectionId: 3 };
		assert.deepEqual(responseDestination(req), { transport: 'tcp', address: '192.0.2.1', port: 5080, connectionId: 3 });
	});

	it('falls back to the source without a Via', () => {
		const req = request();
		req.source = FROM_NAT;
		assert.deepEqual(responseDestination(req), FROM_NAT);
	});
});
