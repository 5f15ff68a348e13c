import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../../src/common/time.js';
import { parseVia } from '../../../../src/sip/message/index.js';
import type { SipAddress, SipResponse } from '../../../../src/sip/message/types.js';
import { type ClientTransactionHandlers, TransactionLayer } from '../../../../src/sip/transaction/index.js';
import { FakeTransport, makeRequest, makeResponse, outgoing } from './fake-transport.js';

const T1 = 500;
const UDP_DEST: SipAddress = { transport: 'udp', address: '192.0.2.20', port: 5060 };
const TCP_DEST: SipAddress = { transport: 'tcp', address: '192.0.2.20', port: 5060 };

function setup() {
	const clock = new ManualClock();
	const transport = new FakeTransport(clock);
	const layer = new TransactionLayer(transport, { clock });
	return { clock, transport, layer };
}

/** Handlers that record every call. */
function recorder() {
	const calls = { provisional: [] as SipResponse[], final: [] as SipResponse[], retransmit: [] as SipResponse[], timeout: 0, transportError: [] as Error[] };
	const handlers: ClientTransactionHandlers = {
		onProvisional: (r) => calls.provisional.push(r),
		onFinal: (r) => calls.final.push(r),
		on2xxRetransmit: (r) => calls.retransmit.push(r),
		onTimeout: () => calls.timeout++,
		onTransportError: (e) => calls.transportError.push(e),
	};
	return { calls, handlers };
}

function sumTimes(...intervals: number[]): number[] {
	let t = 0;
	return intervals.map((i) => (t += i));
}

describe('client transactions: sending', () => {
	it('adds a Via with a fresh branch and rport, and Max-Forwards', () => {
		const { transport, layer } = setup();
		const req = outgoing('OPTIONS');
		const tx = layer.sendRequest(req, UDP_DEST, recorder().handlers);
		const sent = transport.requests('OPTIONS')[0]!;
		assert.equal(sent, req);
		const via = parseVia(sent.headers.get('via') ?? '')[0]!;
		assert.equal(via.transport, 'UDP');
		assert.equal(via.host, '10.0.0.1');
		assert.equal(via.port, 5060);
		assert.equal(via.params['branch'], tx.branch);
		assert.ok(tx.branch.startsWith('z9hG4bK'));
		assert.ok('rport' in via.params);
		assert.equal(sent.headers.get('max-forwards'), '70');
		assert.deepEqual(transport.sent[0]!.dest, UDP_DEST);

		// Resending the same request object (e.g. after a 401) replaces our Via.
		const tx2 = layer.sendRequest(req, TCP_DEST, recorder().handlers);
		assert.equal(req.headers.getAll('via').length, 1);
		assert.notEqual(tx2.branch, tx.branch);
		assert.match(req.headers.get('via') ?? '', /^SIP\/2\.0\/TCP /);
		layer.close();
	});
});

describe('INVITE client transaction', () => {
	it('retransmits on Timer A, doubling, and times out on Timer B', () => {
		const { clock, transport, layer } = setup();
		const { calls, handlers } = recorder();
		const tx = layer.sendRequest(outgoing('INVITE'), UDP_DEST, handlers);
		assert.equal(tx.state, 'calling');
		clock.advance(64 * T1 - 1);
		assert.deepEqual(transport.times('INVITE'), [0, ...sumTimes(500, 1000, 2000, 4000, 8000, 16000)]);
		assert.equal(calls.timeout, 0);
		clock.advance(1);
		assert.equal(calls.timeout, 1);
		assert.equal(tx.state, 'terminated');
		clock.advance(100_000);
		assert.equal(transport.requests('INVITE').length, 7);
		assert.equal(calls.timeout, 1);
		assert.equal(layer.clientTransactionCount, 0);
		assert.equal(clock.pending, 0);
	});

	it('stops retransmitting on a provisional and reports it', () => {
		const { clock, transport, layer } = setup();
		const { calls, handlers } = recorder();
		const req = outgoing('INVITE');
		const tx = layer.sendRequest(req, UDP_DEST, handlers);
		clock.advance(600);
		transport.deliver(makeResponse(req, 180, 'Ringing'));
		assert.equal(tx.state, 'proceeding');
		assert.equal(calls.provisional.length, 1);
		clock.advance(100_000);
		assert.equal(transport.requests('INVITE').length, 2);
		assert.equal(calls.timeout, 0, 'Timer B only runs in Calling');
		layer.close();
	});

	it('ACKs a 486 itself, re-ACKs its retransmissions, and ends at Timer D', () => {
		const { clock, transport, layer } = setup();
		const { calls, handlers } = recorder();
		const req = outgoing('INVITE');
		const tx = layer.sendRequest(req, UDP_DEST, handlers);
		const busy = makeResponse(req, 486, 'Busy Here', 'callee7');
		transport.deliver(busy);
		assert.equal(tx.state, 'completed');
		assert.equal(calls.final.length, 1);
		assert.equal(calls.final[0], busy);

		const ack = transport.requests('ACK')[0];
		assert.ok(ack, 'an ACK was sent');
		assert.equal(ack.uri, req.uri);
		assert.equal(ack.headers.get('cseq'), '1 ACK');
		assert.equal(ack.headers.get('call-id'), req.headers.get('call-id'));
		assert.equal(ack.headers.get('from'), req.headers.get('from'));
		assert.equal(ack.headers.get('to'), busy.headers.get('to'));
		assert.match(ack.headers.get('to') ?? '', /;tag=callee7/);
		assert.deepEqual(ack.headers.getAll('via'), [req.headers.get('via')]);
		assert.equal(parseVia(ack.headers.get('via') ?? '')[0]!.params['branch'], tx.branch);
		assert.deepEqual(ack.headers.getAll('route'), req.headers.getAll('route'));
		assert.deepEqual(transport.sent.at(-1)!.dest, UDP_DEST);

		transport.deliver(makeResponse(req, 486, 'Busy Here', 'callee7'));
		assert.equal(transport.requests('ACK').length, 2);
		assert.equal(calls.final.length, 1);
		clock.advance(32_000 - 1);
		assert.equal(tx.state, 'completed');
		clock.advance(1);
		assert.equal(tx.state, 'terminated');
		assert.equal(transport.requests('INVITE').length, 1, 'no INVITE retransmission after the final');
		assert.equal(clock.pending, 0);
	});

	it('passes 2xx and its retransmissions to the TU without ACKing them', () => {
		const { clock, transport, layer } = setup();
		const { calls, handlers } = recorder();
		const req = outgoing('INVITE');
		const tx = layer.sendRequest(req, UDP_DEST, handlers);
		transport.deliver(makeResponse(req, 200, 'OK'));
		assert.equal(tx.state, 'accepted');
		transport.deliver(makeResponse(req, 200, 'OK'));
		transport.deliver(makeResponse(req, 200, 'OK', 'otherfork'));
		assert.equal(calls.final.length, 1);
		assert.equal(calls.retransmit.length, 2);
		assert.equal(transport.requests('ACK').length, 0);
		clock.advance(64 * T1);
		assert.equal(tx.state, 'terminated');

		// After Timer M a 2xx is a stray response the TU can still ACK.
		const strays: SipResponse[] = [];
		layer.on('response', (r) => strays.push(r));
		transport.deliver(makeResponse(req, 200, 'OK'));
		assert.equal(strays.length, 1);
	});

	it('does not retransmit over TCP but still times out on Timer B', () => {
		const { clock, transport, layer } = setup();
		const { calls, handlers } = recorder();
		layer.sendRequest(outgoing('INVITE'), TCP_DEST, handlers);
		clock.advance(64 * T1);
		assert.equal(transport.requests('INVITE').length, 1);
		assert.match(transport.requests('INVITE')[0]!.headers.get('via') ?? '', /^SIP\/2\.0\/TCP /);
		assert.equal(calls.timeout, 1);
	});

	it('ACKs a non-2xx over TCP and ends at once (Timer D is zero)', () => {
		const { transport, layer } = setup();
		const req = outgoing('INVITE');
		const tx = layer.sendRequest(req, TCP_DEST, recorder().handlers);
		transport.deliver(makeResponse(req, 404, 'Not Found'));
		assert.equal(transport.requests('ACK').length, 1);
		assert.equal(tx.state, 'terminated');
	});

	it('waits for a provisional before sending CANCEL, then ACKs the 487', () => {
		const { clock, transport, layer } = setup();
		const { calls, handlers } = recorder();
		const req = outgoing('INVITE');
		const tx = layer.sendRequest(req, UDP_DEST, handlers);
		assert.equal(tx.cancel(), true);
		assert.equal(transport.requests('CANCEL').length, 0, '§9.1: no CANCEL before a provisional');
		transport.deliver(makeResponse(req, 180, 'Ringing'));
		const cancel = transport.requests('CANCEL')[0];
		assert.ok(cancel);
		assert.equal(cancel.uri, req.uri);
		assert.equal(cancel.headers.get('via'), req.headers.get('via'));
		assert.equal(cancel.headers.get('cseq'), '1 CANCEL');
		assert.equal(cancel.headers.get('to'), req.headers.get('to'));
		assert.deepEqual(cancel.headers.getAll('route'), req.headers.getAll('route'));
		assert.equal(tx.cancel(), true, 'idempotent');
		assert.equal(transport.requests('CANCEL').length, 1);

		// The CANCEL is its own non-INVITE transaction: retransmitted on Timer E.
		clock.advance(T1);
		assert.equal(transport.requests('CANCEL').length, 2);
		transport.deliver(makeResponse(cancel, 200, 'OK'));
		assert.equal(calls.final.length, 0, "the CANCEL's 200 is not the INVITE's final");
		transport.deliver(makeResponse(req, 487, 'Request Terminated'));
		assert.equal(calls.final[0]?.status, 487);
		assert.equal(transport.requests('ACK').length, 1);
		assert.equal(tx.cancel(), false, 'too late');
		clock.advance(64 * T1);
		assert.equal(clock.pending, 0);
	});

	it('reports a transport error', async () => {
		const { transport, layer } = setup();
		const { calls, handlers } = recorder();
		transport.failWith = new Error('ECONNREFUSED');
		const tx = layer.sendRequest(outgoing('INVITE'), TCP_DEST, handlers);
		await new Promise((r) => setImmediate(r));
		assert.equal(calls.transportError.length, 1);
		assert.equal(tx.state, 'terminated');
		layer.close();
	});
});

describe('non-INVITE client transaction', () => {
	it('retransmits on Timer E capped at T2 and times out on Timer F', () => {
		const { clock, transport, layer } = setup();
		const { calls, handlers } = recorder();
		const tx = layer.sendRequest(outgoing('OPTIONS'), UDP_DEST, handlers);
		assert.equal(tx.state, 'trying');
		clock.advance(64 * T1 - 1);
		assert.deepEqual(transport.times('OPTIONS'), [0, ...sumTimes(500, 1000, 2000, 4000, 4000, 4000, 4000, 4000, 4000, 4000)]);
		assert.equal(calls.timeout, 0);
		clock.advance(1);
		assert.equal(calls.timeout, 1);
		assert.equal(tx.state, 'terminated');
		assert.equal(clock.pending, 0);
	});

	it('retransmits at T2 once Proceeding', () => {
		const { clock, transport, layer } = setup();
		const { calls, handlers } = recorder();
		const req = outgoing('REGISTER');
		layer.sendRequest(req, UDP_DEST, handlers);
		clock.advance(100);
		transport.deliver(makeResponse(req, 100, 'Trying'));
		assert.equal(calls.provisional.length, 1);
		clock.advance(8500 - 100);
		assert.deepEqual(transport.times('REGISTER'), [0, 500, 4500, 8500]);
		layer.close();
	});

	it('reports the final once, absorbs retransmissions, and ends at Timer K', () => {
		const { clock, transport, layer } = setup();
		const { calls, handlers } = recorder();
		const req = outgoing('BYE');
		const tx = layer.sendRequest(req, UDP_DEST, handlers);
		transport.deliver(makeResponse(req, 200, 'OK'));
		transport.deliver(makeResponse(req, 200, 'OK'));
		assert.equal(calls.final.length, 1);
		assert.equal(tx.state, 'completed');
		clock.advance(5000 - 1);
		assert.equal(tx.state, 'completed');
		clock.advance(1);
		assert.equal(tx.state, 'terminated');
		assert.equal(transport.requests('BYE').length, 1);
		assert.equal(clock.pending, 0);
	});

	it('matches responses by branch and CSeq method', () => {
		const { transport, layer } = setup();
		const { calls, handlers } = recorder();
		const req = outgoing('INFO');
		layer.sendRequest(req, UDP_DEST, handlers);
		const wrongMethod = makeResponse(req, 200, 'OK');
		wrongMethod.headers.set('cseq', '1 OPTIONS');
		transport.deliver(wrongMethod);
		const wrongBranch = makeResponse(req, 200, 'OK');
		wrongBranch.headers.set('via', 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKnotours');
		transport.deliver(wrongBranch);
		assert.equal(calls.final.length, 0);
		transport.deliver(makeResponse(req, 200, 'OK'));
		assert.equal(calls.final.length, 1);
		layer.close();
	});
});

describe('TransactionLayer.close', () => {
	it('leaves no timer running', () => {
		const { clock, transport, layer } = setup();
		layer.on('request', (req, tx) => {
			if (req.method === 'INVITE') {
				tx.respond(makeResponse(req, 200, 'OK'));
			}
		});
		transport.deliver(makeRequest('INVITE'));
		transport.deliver(makeRequest('OPTIONS', { branch: 'z9hG4bKopt' }));
		transport.deliver(makeRequest('INVITE', { branch: 'z9hG4bKinv2', callId: 'c2' }));
		layer.sendRequest(outgoing('INVITE'), UDP_DEST, recorder().handlers);
		layer.sendRequest(outgoing('MESSAGE', 2), UDP_DEST, recorder().handlers);
		assert.ok(clock.pending > 0);
		layer.close();
		assert.equal(clock.pending, 0);
		const before = transport.sent.length;
		clock.advance(100_000);
		transport.deliver(makeRequest('OPTIONS', { branch: 'z9hG4bKlate' }));
		assert.equal(transport.sent.length, before);
		assert.throws(() => layer.sendRequest(outgoing('OPTIONS'), UDP_DEST, recorder().handlers), { code: 'INVALID_STATE' });
	});
});
