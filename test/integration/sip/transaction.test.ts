import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { ManualClock } from '../../../src/common/time.js';
import { createResponse, getVias, parseMessage } from '../../../src/sip/message/index.js';
import { SipHeaders, type SipAddress, type SipRequest, type SipResponse } from '../../../src/sip/message/types.js';
import { type ServerTransaction, TransactionLayer, type TransactionLayerOptions } from '../../../src/sip/transaction/index.js';
import { TransportLayer } from '../../../src/sip/transport/index.js';
import { delay, HOST, rawRequest, UdpPeer } from './helpers.js';

async function stack(t: TestContext, opts: TransactionLayerOptions = {}) {
	const transport = await TransportLayer.listen({ host: HOST, port: 0 });
	const layer = new TransactionLayer(transport, opts);
	t.after(async () => {
		layer.close();
		await transport.close();
	});
	return { transport, layer };
}

function invite(callId: string): SipRequest {
	const h = new SipHeaders();
	h.append('from', '<sip:conf@127.0.0.1>;tag=uac1');
	h.append('to', '<sip:room@127.0.0.1>');
	h.append('call-id', callId);
	h.append('cseq', '1 INVITE');
	h.append('contact', '<sip:conf@127.0.0.1>');
	return { kind: 'request', method: 'INVITE', uri: 'sip:room@127.0.0.1', version: 'SIP/2.0', headers: h, body: Buffer.alloc(0) };
}

/** The TU's ACK for a 2xx: a new request in the dialog (§13.2.2.4), built minimally here. */
function ackFor(req: SipRequest, res: SipResponse): SipRequest {
	const h = new SipHeaders();
	h.append('from', req.headers.get('from') ?? '');
	h.append('to', res.headers.get('to') ?? '');
	h.append('call-id', req.headers.get('call-id') ?? '');
	h.append('cseq', '1 ACK');
	return { kind: 'request', method: 'ACK', uri: req.uri, version: 'SIP/2.0', headers: h, body: Buffer.alloc(0) };
}

function waitFor<T>(register: (done: (v: T) => void) => void, ms = 1000): Promise<T> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error('timed out')), ms);
		register((v) => {
			clearTimeout(timer);
			resolve(v);
		});
	});
}

/** Polls `pred` every few ms until it holds or `ms` passes. */
async function poll(pred: () => boolean, ms = 1000): Promise<boolean> {
	const end = Date.now() + ms;
	while (!pred() && Date.now() < end) {
		await delay(2);
	}
	return pred();
}

for (const transport of ['udp', 'tcp'] as const) {
	describe(`transactions over real ${transport.toUpperCase()} sockets`, () => {
		it('INVITE → 180 → 200 → ACK reaches the UAS once', async (t) => {
			const uac = await stack(t);
			const uas = await stack(t);
			const dest: SipAddress = { transport, address: HOST, port: uas.transport.port };
			const acks: SipRequest[] = [];
			uas.layer.on('ack', (a) => acks.push(a));
			uas.layer.on('request', (req, tx) => {
				tx.respond(createResponse(req, 180, 'Ringing', { toTag: 'uas1' }));
				tx.respond(createResponse(req, 200, 'OK', { toTag: 'uas1' }));
			});
			const req = invite(`real-${transport}-1`);
			const provisional: number[] = [];
			const final = await waitFor<SipResponse>((done) => {
				uac.layer.sendRequest(req, dest, { onProvisional: (r) => provisional.push(r.status), onFinal: done });
			});
			assert.equal(final.status, 200);
			assert.deepEqual(provisional, [180]);
			const top = getVias(final)[0]!;
			assert.equal(top.transport, transport.toUpperCase());
			assert.equal(top.port, uac.transport.port);
			assert.equal(top.params['received'], HOST, 'RFC 3581: received goes with a filled rport');
			if (transport === 'udp') {
				assert.equal(top.params['rport'], String(uac.transport.port), 'we send from our listening port');
			} else {
				assert.match(top.params['rport'] ?? '', /^\d+$/, "a TCP connection's own port");
			}

			uac.layer.sendAck(ackFor(req, final), dest);
			await waitFor<void>((done) => uas.layer.once('ack', () => done()));
			await delay(20);
			assert.equal(acks.length, 1);
		});

		it('a 486 is ACKed by the client transaction and ends the server one', async (t) => {
			const uac = await stack(t);
			const uas = await stack(t);
			const dest: SipAddress = { transport, address: HOST, port: uas.transport.port };
			let serverTx: ServerTransaction | undefined;
			uas.layer.on('request', (req, tx) => {
				serverTx = tx;
				tx.respond(createResponse(req, 486, 'Busy Here', { toTag: 'uas2' }));
			});
			const final = await waitFor<SipResponse>((done) => {
				uac.layer.sendRequest(invite(`real-${transport}-2`), dest, { onFinal: done });
			});
			assert.equal(final.status, 486);
			assert.ok(await poll(() => serverTx?.state === (transport === 'tcp' ? 'terminated' : 'confirmed')));
		});

		it('CANCEL is answered 200, the TU answers 487, and the client gets it', async (t) => {
			const uac = await stack(t);
			const uas = await stack(t);
			const dest: SipAddress = { transport, address: HOST, port: uas.transport.port };
			uas.layer.on('request', (req, tx) => {
				tx.respond(createResponse(req, 180, 'Ringing', { toTag: 'uas3' }));
				tx.on('cancel', () => tx.respond(createResponse(req, 487, 'Request Terminated', { toTag: 'uas3' })));
			});
			const final = await waitFor<SipResponse>((done) => {
				const tx = uac.layer.sendRequest(invite(`real-${transport}-3`), dest, {
					onProvisional: () => tx.cancel(),
					onFinal: done,
				});
			});
			assert.equal(final.status, 487);
		});
	});
}

describe('timers over real UDP with a ManualClock', () => {
	it('retransmits an INVITE with the same bytes on Timer A and times out on Timer B', async (t) => {
		const clock = new ManualClock();
		const uac = await stack(t, { clock });
		const peer = await UdpPeer.open();
		t.after(() => peer.close());
		let timeouts = 0;
		uac.layer.sendRequest(invite('timer-a'), { transport: 'udp', address: HOST, port: peer.port }, { onFinal: () => {}, onTimeout: () => timeouts++ });
		const first = await peer.next();
		assert.ok(first?.startsWith('INVITE '));
		clock.advance(499);
		assert.equal(await peer.next(30), undefined);
		clock.advance(1);
		assert.equal(await peer.next(), first);
		clock.advance(1000);
		assert.equal(await peer.next(), first);
		clock.advance(64 * 500);
		assert.equal(timeouts, 1);
		assert.equal(clock.pending, 0);
	});

	it('absorbs a retransmitted INVITE and retransmits a 486 until the ACK', async (t) => {
		const clock = new ManualClock();
		const uas = await stack(t, { clock });
		const peer = await UdpPeer.open();
		t.after(() => peer.close());
		const requests: ServerTransaction[] = [];
		uas.layer.on('request', (_req, tx) => requests.push(tx));
		const inv = rawRequest({ method: 'INVITE', sentBy: `${HOST}:${peer.port}`, branch: 'z9hG4bKmc1' });
		await peer.send(inv, uas.transport.port);
		await waitFor<void>((done) => uas.layer.once('request', () => done()));
		const tx = requests[0]!;
		tx.respond(createResponse(tx.req, 180, 'Ringing', { toTag: 'm1' }));
		assert.match((await peer.next()) ?? '', /^SIP\/2\.0 180 /);
		await peer.send(inv, uas.transport.port);
		assert.match((await peer.next()) ?? '', /^SIP\/2\.0 180 /, 'the retransmitted INVITE gets the 180 again');
		assert.equal(requests.length, 1);

		tx.respond(createResponse(tx.req, 486, 'Busy Here', { toTag: 'm1' }));
		assert.match((await peer.next()) ?? '', /^SIP\/2\.0 486 /);
		clock.advance(500);
		const again = await peer.next();
		assert.match(again ?? '', /^SIP\/2\.0 486 /);
		const res = parseMessage(Buffer.from(again ?? '')) as SipResponse;
		const ack = rawRequest({ method: 'ACK', sentBy: `${HOST}:${peer.port}`, branch: 'z9hG4bKmc1' }).replace(
			'To: <sip:room@example.com>',
			`To: ${res.headers.get('to')}`,
		);
		await peer.send(ack, uas.transport.port);
		assert.ok(await poll(() => tx.state === 'confirmed'));
		clock.advance(10_000);
		assert.equal(await peer.next(30), undefined, 'no retransmission after the ACK');
		assert.equal(tx.state, 'terminated');
	});
});
