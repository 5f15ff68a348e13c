import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../../src/common/time.js';
import { createResponse } from '../../../../src/sip/message/index.js';
import type { SipAddress, SipRequest } from '../../../../src/sip/message/types.js';
import { type ServerTransaction, TransactionLayer } from '../../../../src/sip/transaction/index.js';
import { FakeTransport, makeRequest } from './fake-transport.js';

const T1 = 500;
const TCP_UAC: SipAddress = { transport: 'tcp', address: '192.0.2.10', port: 5070, connectionId: 7 };

function setup(opts: { tryingDelay?: number } = {}) {
	const clock = new ManualClock();
	const transport = new FakeTransport(clock);
	const layer = new TransactionLayer(transport, { clock, ...opts });
	const requests: Array<[SipRequest, ServerTransaction]> = [];
	const acks: SipRequest[] = [];
	layer.on('request', (req, tx) => requests.push([req, tx]));
	layer.on('ack', (ack) => acks.push(ack));
	return { clock, transport, layer, requests, acks };
}

function only<T>(list: T[]): T {
	assert.equal(list.length, 1);
	return list[0]!;
}

function sumTimes(...intervals: number[]): number[] {
	let t = 0;
	return intervals.map((i) => (t += i));
}

describe('INVITE server transaction', () => {
	it('absorbs a retransmitted INVITE and resends the last provisional', () => {
		const { transport, requests } = setup();
		transport.deliver(makeRequest('INVITE'));
		const [req, tx] = only(requests);
		tx.respond(createResponse(req, 180, 'Ringing', { toTag: 'uas1' }));
		transport.deliver(makeRequest('INVITE'));
		transport.deliver(makeRequest('INVITE'));
		assert.equal(requests.length, 1);
		assert.equal(transport.responses(180).length, 3);
		assert.equal(tx.state, 'proceeding');
	});

	it('sends 100 Trying after 200 ms unless the TU answered', () => {
		const { clock, transport, requests } = setup();
		transport.deliver(makeRequest('INVITE'));
		clock.advance(199);
		assert.equal(transport.sent.length, 0);
		clock.advance(1);
		assert.equal(transport.responses(100).length, 1);
		// A retransmitted INVITE gets the 100 again.
		transport.deliver(makeRequest('INVITE'));
		assert.equal(transport.responses(100).length, 2);

		transport.deliver(makeRequest('INVITE', { branch: 'z9hG4bKother', callId: 'call-2' }));
		const [req2, tx2] = requests[1]!;
		tx2.respond(createResponse(req2, 180, 'Ringing', { toTag: 'x' }));
		clock.advance(1000);
		assert.equal(transport.responses(100).length, 2);
	});

	it('retransmits a non-2xx final at T1, 2T1, 4T1 capped at T2 until the ACK, then Timer I', () => {
		const { clock, transport, requests, acks } = setup();
		transport.deliver(makeRequest('INVITE'));
		const [req, tx] = only(requests);
		tx.respond(createResponse(req, 486, 'Busy Here', { toTag: 'uas1' }));
		assert.equal(tx.state, 'completed');
		clock.advance(12_000);
		assert.deepEqual(transport.times(486), [0, ...sumTimes(500, 1000, 2000, 4000, 4000)]);
		// The INVITE retransmitted meanwhile gets the final response again.
		transport.deliver(makeRequest('INVITE'));
		assert.equal(transport.responses(486).length, 7);

		transport.deliver(makeRequest('ACK', { toTag: 'uas1' }));
		assert.equal(tx.state, 'confirmed');
		assert.equal(acks.length, 0, 'ACK for a non-2xx stays in the transaction');
		transport.deliver(makeRequest('ACK', { toTag: 'uas1' }));
		assert.equal(acks.length, 0);
		clock.advance(4999);
		assert.equal(tx.state, 'confirmed');
		clock.advance(1);
		assert.equal(tx.state, 'terminated');
		assert.equal(transport.responses(486).length, 7);
		assert.equal(clock.pending, 0);
	});

	it('gives up on the ACK at Timer H = 64*T1', () => {
		const { clock, transport, requests } = setup();
		let terminated = 0;
		transport.deliver(makeRequest('INVITE'));
		const [req, tx] = only(requests);
		tx.on('terminated', () => terminated++);
		tx.respond(createResponse(req, 603, 'Decline', { toTag: 'uas1' }));
		clock.advance(64 * T1 - 1);
		assert.equal(tx.state, 'completed');
		assert.deepEqual(transport.times(603), [0, ...sumTimes(500, 1000, 2000, 4000, 4000, 4000, 4000, 4000, 4000, 4000)]);
		clock.advance(1);
		assert.equal(tx.state, 'terminated');
		assert.equal(terminated, 1);
		assert.equal(clock.pending, 0);
	});

	it('retransmits a 2xx until its ACK, passes that ACK up once and absorbs copies', () => {
		const { clock, transport, layer, requests, acks } = setup();
		transport.deliver(makeRequest('INVITE'));
		const [req, tx] = only(requests);
		let txAck = 0;
		let ackTimeout = 0;
		tx.on('ack', () => txAck++);
		tx.on('acktimeout', () => ackTimeout++);
		tx.respond(createResponse(req, 200, 'OK', { toTag: 'uas1' }));
		assert.equal(tx.state, 'accepted');
		clock.advance(3500);
		assert.deepEqual(transport.times(200), [0, 500, 1500, 3500]);
		// A retransmitted INVITE is absorbed in Accepted (RFC 6026).
		transport.deliver(makeRequest('INVITE'));
		assert.equal(requests.length, 1);

		// The ACK for a 2xx is a new transaction: its own branch.
		transport.deliver(makeRequest('ACK', { branch: 'z9hG4bKack1', toTag: 'uas1' }));
		assert.equal(acks.length, 1);
		assert.equal(txAck, 1);
		transport.deliver(makeRequest('ACK', { branch: 'z9hG4bKack1', toTag: 'uas1' }));
		assert.equal(acks.length, 1);
		clock.advance(60_000);
		assert.equal(transport.responses(200).length, 4);
		assert.equal(ackTimeout, 0);
		assert.equal(tx.state, 'terminated');
		assert.equal(layer.serverTransactionCount, 0);
		assert.equal(clock.pending, 0);
	});

	it("fires 'acktimeout' exactly once when no ACK comes within 64*T1", () => {
		const { clock, transport, requests } = setup();
		transport.deliver(makeRequest('INVITE'));
		const [req, tx] = only(requests);
		let ackTimeout = 0;
		tx.on('acktimeout', () => ackTimeout++);
		tx.respond(createResponse(req, 200, 'OK', { toTag: 'uas1' }));
		clock.advance(64 * T1 - 1);
		assert.equal(ackTimeout, 0);
		assert.deepEqual(transport.times(200), [0, ...sumTimes(500, 1000, 2000, 4000, 4000, 4000, 4000, 4000, 4000, 4000)]);
		clock.advance(1);
		assert.equal(ackTimeout, 1);
		clock.advance(100_000);
		assert.equal(ackTimeout, 1);
		assert.equal(tx.state, 'terminated');
		assert.equal(clock.pending, 0);
	});

	it('answers a matching CANCEL with 200, tells the TU, and the 487 is ACKed', () => {
		const { clock, transport, requests, acks } = setup();
		transport.deliver(makeRequest('INVITE'));
		const [req, tx] = only(requests);
		const cancels: SipRequest[] = [];
		tx.on('cancel', (c) => cancels.push(c));
		tx.respond(createResponse(req, 180, 'Ringing', { toTag: 'uas1' }));
		transport.deliver(makeRequest('CANCEL'));
		assert.equal(cancels.length, 1);
		const ok = only(transport.responses(200));
		assert.equal(ok.headers.get('cseq'), '1 CANCEL');
		assert.match(ok.headers.get('to') ?? '', /;tag=uas1/, 'same To tag as the INVITE responses');
		assert.equal(requests.length, 1, 'CANCEL is not a new request for the TU');

		// A retransmitted CANCEL gets the 200 again but no second event.
		transport.deliver(makeRequest('CANCEL'));
		assert.equal(transport.responses(200).length, 2);
		assert.equal(cancels.length, 1);

		tx.respond(createResponse(req, 487, 'Request Terminated', { toTag: 'uas1' }));
		transport.deliver(makeRequest('ACK', { toTag: 'uas1' }));
		assert.equal(tx.state, 'confirmed');
		assert.equal(acks.length, 0);
		clock.advance(64 * T1);
		assert.equal(clock.pending, 0);
	});

	it('answers a CANCEL matching nothing with 481', () => {
		const { transport, requests } = setup();
		transport.deliver(makeRequest('INVITE'));
		transport.deliver(makeRequest('CANCEL', { branch: 'z9hG4bKnomatch' }));
		// Same branch but another sent-by is another transaction (§17.2.3).
		transport.deliver(makeRequest('CANCEL', { sentBy: '192.0.2.99:5070' }));
		assert.equal(transport.responses(481).length, 2);
		assert.equal(transport.responses(200).length, 0);
		assert.equal(requests[0]![1].state, 'proceeding');
	});

	it('does not retransmit over TCP and ends at once on the ACK', () => {
		const { clock, transport, requests, acks } = setup();
		transport.deliver(makeRequest('INVITE', { source: TCP_UAC }));
		transport.deliver(makeRequest('INVITE', { source: TCP_UAC, branch: 'z9hG4bKsecond', callId: 'call-2' }));
		const [req, tx] = requests[0]!;
		const [req2, tx2] = requests[1]!;
		tx.respond(createResponse(req, 486, 'Busy Here', { toTag: 'a' }));
		tx2.respond(createResponse(req2, 200, 'OK', { toTag: 'b' }));
		assert.deepEqual(transport.sent.map((s) => s.dest.connectionId), [7, 7]);
		clock.advance(20_000);
		assert.equal(transport.sent.length, 2);
		transport.deliver(makeRequest('ACK', { source: TCP_UAC, toTag: 'a' }));
		assert.equal(tx.state, 'terminated', 'Timer I is zero on reliable transports');
		transport.deliver(makeRequest('ACK', { source: TCP_UAC, branch: 'z9hG4bKack2', callId: 'call-2', toTag: 'b' }));
		assert.equal(acks.length, 1);
		clock.advance(64 * T1);
		assert.equal(tx2.state, 'terminated');
		assert.equal(clock.pending, 0);
	});

	it('rejects respond() after the final response', () => {
		const { transport, requests } = setup();
		transport.deliver(makeRequest('INVITE'));
		const [req, tx] = only(requests);
		tx.respond(createResponse(req, 404, 'Not Found', { toTag: 'x' }));
		assert.throws(() => tx.respond(createResponse(req, 200, 'OK', { toTag: 'x' })), { code: 'INVALID_STATE' });
	});
});

describe('non-INVITE server transaction', () => {
	it('absorbs retransmissions, resends the final, and ends at Timer J', () => {
		const { clock, transport, requests } = setup();
		transport.deliver(makeRequest('OPTIONS'));
		const [req, tx] = only(requests);
		assert.equal(tx.state, 'trying');
		transport.deliver(makeRequest('OPTIONS'));
		assert.equal(transport.sent.length, 0, 'nothing to resend while Trying');
		clock.advance(1000);
		assert.equal(transport.sent.length, 0, 'no 100 Trying for non-INVITE');
		tx.respond(createResponse(req, 200, 'OK', { toTag: 'x' }));
		assert.equal(tx.state, 'completed');
		transport.deliver(makeRequest('OPTIONS'));
		assert.equal(transport.responses(200).length, 2);
		assert.equal(requests.length, 1);
		clock.advance(64 * T1 - 1);
		assert.equal(tx.state, 'completed');
		clock.advance(1);
		assert.equal(tx.state, 'terminated');
		// The same request now starts a new transaction.
		transport.deliver(makeRequest('OPTIONS'));
		assert.equal(requests.length, 2);
	});

	it('resends the last provisional while Proceeding', () => {
		const { transport, requests } = setup();
		transport.deliver(makeRequest('REGISTER'));
		const [req, tx] = only(requests);
		tx.respond(createResponse(req, 100, 'Trying'));
		assert.equal(tx.state, 'proceeding');
		transport.deliver(makeRequest('REGISTER'));
		assert.equal(transport.responses(100).length, 2);
	});

	it('ends at once over TCP (Timer J is zero)', () => {
		const { transport, layer, requests } = setup();
		transport.deliver(makeRequest('OPTIONS', { source: TCP_UAC }));
		const [req, tx] = only(requests);
		tx.respond(createResponse(req, 200, 'OK', { toTag: 'x' }));
		assert.equal(tx.state, 'terminated');
		assert.equal(layer.serverTransactionCount, 0);
	});

	it('answers 500 when the TU throws, and 400 when CSeq names another method', () => {
		const clock = new ManualClock();
		const transport = new FakeTransport(clock);
		const layer = new TransactionLayer(transport, { clock });
		layer.on('request', () => {
			throw new Error('boom');
		});
		transport.deliver(makeRequest('OPTIONS'));
		assert.equal(transport.responses(500).length, 1);
		transport.deliver(makeRequest('BYE', { branch: 'z9hG4bKb', cseqMethod: 'INVITE' }));
		assert.equal(transport.responses(400).length, 1);
		layer.close();
	});

	it('sends responses to received/rport of the top Via over UDP', () => {
		const { transport, requests } = setup();
		const req = makeRequest('OPTIONS', { sentBy: '10.9.9.9:5090' });
		req.headers.set('via', 'SIP/2.0/UDP 10.9.9.9:5090;branch=z9hG4bKnat;received=192.0.2.10;rport=40000');
		transport.deliver(req);
		const [r, tx] = only(requests);
		tx.respond(createResponse(r, 200, 'OK', { toTag: 'x' }));
		assert.deepEqual(transport.sent[0]!.dest, { transport: 'udp', address: '192.0.2.10', port: 40000 });
		assert.deepEqual(tx.destination, { transport: 'udp', address: '192.0.2.10', port: 40000 });
	});
});
