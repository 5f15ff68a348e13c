import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createResponse, getVias, parseMessage } from '../../../src/sip/message/index.js';
import type { SipMessage, SipRequest } from '../../../src/sip/message/types.js';
import { TransportLayer } from '../../../src/sip/transport/index.js';
import { delay, HOST, rawRequest, TcpPeer, UdpPeer } from './helpers.js';

/** Collects the layer's messages and resolves waiters as they arrive. */
function collect(layer: TransportLayer) {
	const got: SipMessage[] = [];
	let wake: (() => void) | undefined;
	layer.on('message', (m) => {
		got.push(m);
		wake?.();
	});
	return {
		got,
		async count(n: number, ms = 1000): Promise<SipMessage[]> {
			const end = Date.now() + ms;
			while (got.length < n && Date.now() < end) {
				await new Promise<void>((r) => {
					wake = r;
					setTimeout(r, end - Date.now());
				});
			}
			return got;
		},
	};
}

describe('TransportLayer', () => {
	let layer: TransportLayer;
	let inbox: ReturnType<typeof collect>;
	const errors: Error[] = [];

	before(async () => {
		layer = await TransportLayer.listen({ host: HOST, port: 0 });
		layer.on('error', (e) => errors.push(e));
		inbox = collect(layer);
	});

	after(async () => {
		await layer.close();
	});

	it('listens on one port number for both UDP and TCP', async (t) => {
		assert.ok(layer.port > 0);
		const peer = await TcpPeer.connect(layer.port);
		t.after(() => peer.close());
		peer.close();
		const udp = await UdpPeer.open();
		t.after(() => udp.close());
		inbox.got.length = 0;
		await udp.send(rawRequest({ branch: 'z9hG4bKsameport' }), layer.port);
		assert.equal((await inbox.count(1)).length, 1);
	});

	it('UDP: stamps received and rport on the top Via and answers to them', async (t) => {
		inbox.got.length = 0;
		const udp = await UdpPeer.open();
		t.after(() => udp.close());
		await udp.send(rawRequest({ sentBy: '10.1.1.1:4540', viaParams: ';rport' }), layer.port);
		const [msg] = await inbox.count(1);
		assert.ok(msg && msg.kind === 'request');
		assert.deepEqual(msg.source, { transport: 'udp', address: HOST, port: udp.port });
		const top = getVias(msg)[0]!;
		assert.equal(top.params['received'], HOST);
		assert.equal(top.params['rport'], String(udp.port));
		assert.equal(top.host, '10.1.1.1', 'sent-by is kept');

		// The Via says port 4540 but rport sends the answer where it came from.
		layer.sendResponse(createResponse(msg, 200, 'OK', { toTag: 't' }), msg);
		const reply = await udp.next();
		assert.ok(reply);
		assert.match(reply, /^SIP\/2\.0 200 OK\r\n/);
		assert.match(reply, new RegExp(`\r\nVia: SIP/2\\.0/UDP 10\\.1\\.1\\.1:4540;branch=z9hG4bKraw1;rport=${udp.port};received=127\\.0\\.0\\.1\r\n`));
	});

	it('UDP: drops garbage and malformed responses silently, answers a broken request with 400', async (t) => {
		inbox.got.length = 0;
		const udp = await UdpPeer.open();
		t.after(() => udp.close());
		await udp.send('this is not SIP at all\r\n\r\n', layer.port);
		await udp.send(Buffer.from([0xff, 0x00, 0x13, 0x37]), layer.port);
		await udp.send('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKr\r\nCSeq: one OPTIONS\r\n\r\n', layer.port);
		await udp.send('\r\n\r\n', layer.port);
		assert.equal(await udp.next(50), undefined);

		await udp.send(rawRequest({ viaParams: ';rport', cseq: 'abc OPTIONS' }), layer.port);
		const reply = await udp.next();
		assert.ok(reply, 'a 400 came back');
		// The reason phrase is the parser's message; the bad CSeq is echoed as is.
		assert.match(reply, /^SIP\/2\.0 400 Malformed CSeq\r\n/);
		assert.match(reply, /\r\nCall-ID: raw-call-1\r\n/);
		assert.match(reply, /\r\nCSeq: abc OPTIONS\r\n/);
		assert.equal(inbox.got.length, 0, 'nothing malformed reaches the upper layer');

		// Still serving.
		await udp.send(rawRequest({ branch: 'z9hG4bKafter' }), layer.port);
		assert.equal((await inbox.count(1)).length, 1);
	});

	it('TCP: frames a message split across three writes and two pipelined in one', async (t) => {
		inbox.got.length = 0;
		const peer = await TcpPeer.connect(layer.port);
		t.after(() => peer.close());
		const one = rawRequest({ method: 'MESSAGE', transport: 'TCP', branch: 'z9hG4bKt1', body: 'split body here' });
		await peer.write(one.slice(0, 30));
		await delay(5);
		await peer.write(one.slice(30, one.length - 4));
		await delay(5);
		assert.equal(inbox.got.length, 0);
		await peer.write(one.slice(one.length - 4));
		await inbox.count(1);
		assert.equal(inbox.got.length, 1);
		const first = inbox.got[0] as SipRequest;
		assert.equal(first.body.toString(), 'split body here');
		assert.equal(first.source?.transport, 'tcp');
		assert.equal(typeof first.source?.connectionId, 'number');

		const a = rawRequest({ method: 'MESSAGE', transport: 'TCP', branch: 'z9hG4bKt2', body: 'A' });
		const b = rawRequest({ method: 'MESSAGE', transport: 'TCP', branch: 'z9hG4bKt3', body: 'BB' }).replace('Content-Length:', 'l:');
		await peer.write(a + b);
		await inbox.count(3);
		assert.deepEqual(
			inbox.got.map((m) => m.body.toString()),
			['split body here', 'A', 'BB'],
		);
		assert.ok(inbox.got.every((m) => m.source?.connectionId === first.source?.connectionId));

		// Responses go back on the same connection.
		layer.sendResponse(createResponse(first, 202, 'Accepted', { toTag: 'x' }), first);
		assert.ok(await peer.until(() => peer.data.includes('SIP/2.0 202 Accepted\r\n')));
		peer.close();
	});

	it('TCP: ignores CRLF keep-alives and answers a double-CRLF ping with CRLF', async (t) => {
		inbox.got.length = 0;
		const peer = await TcpPeer.connect(layer.port);
		t.after(() => peer.close());
		await peer.write('\r\n\r\n');
		assert.ok(await peer.until(() => peer.data === '\r\n'));
		await peer.write('\r\n' + rawRequest({ transport: 'TCP', branch: 'z9hG4bKka' }));
		await inbox.count(1);
		assert.equal(inbox.got.length, 1);
		assert.equal(peer.closed, false);
		peer.close();
	});

	it('TCP: closes a connection without Content-Length, or over 64 KiB', async (t) => {
		const noLength = await TcpPeer.connect(layer.port);
		t.after(() => noLength.close());
		await noLength.write(rawRequest({ transport: 'TCP' }).replace(/Content-Length: 0\r\n/, ''));
		assert.ok(await noLength.until(() => noLength.closed), 'closed for a missing Content-Length');

		const huge = await TcpPeer.connect(layer.port);
		t.after(() => huge.close());
		await huge.write(rawRequest({ transport: 'TCP' }).replace('Content-Length: 0', 'Content-Length: 70000'));
		assert.ok(await huge.until(() => huge.closed), 'closed for an oversized message');

		// A broken request on a stream still gets its 400 before anything else.
		const broken = await TcpPeer.connect(layer.port);
		t.after(() => broken.close());
		await broken.write(rawRequest({ transport: 'TCP', cseq: '1 INVITE' }));
		assert.ok(await broken.until(() => broken.data.startsWith('SIP/2.0 400 ')));
		assert.match(broken.data, /^SIP\/2\.0 400 CSeq method does not match request method\r\n/);
		broken.close();
	});

	it('TCP: opens a connection to address:port when there is none, and reuses it', async (t) => {
		const other = await TransportLayer.listen({ host: HOST, port: 0, udp: false });
		t.after(() => other.close());
		const seen = collect(other);
		const req = parseMessage(Buffer.from(rawRequest({ transport: 'TCP', branch: 'z9hG4bKout1' })));
		layer.send(req, { transport: 'tcp', address: HOST, port: other.port });
		layer.send(req, { transport: 'tcp', address: HOST, port: other.port });
		await seen.count(2);
		assert.equal(seen.got.length, 2);
		assert.equal(seen.got[0]!.source?.connectionId, seen.got[1]!.source?.connectionId);
		assert.equal(other.connectionCount, 1);

		// The far side answers on that connection; we see it with our outgoing id.
		inbox.got.length = 0;
		const first = seen.got[0] as SipRequest;
		other.sendResponse(createResponse(first, 200, 'OK', { toTag: 'y' }), first);
		const [res] = await inbox.count(1);
		assert.equal(res?.kind, 'response');
		assert.equal(res?.source?.transport, 'tcp');
		await other.close();
	});

	it('reports a failed send to the callback, never by throwing', async () => {
		const closedPort = await new Promise<number>((resolve) => {
			const s = net.createServer().listen(0, HOST, () => {
				const p = (s.address() as net.AddressInfo).port;
				s.close(() => resolve(p));
			});
		});
		const req = parseMessage(Buffer.from(rawRequest({ transport: 'TCP', branch: 'z9hG4bKfail' })));
		const err = await new Promise<Error>((resolve) => layer.send(req, { transport: 'tcp', address: HOST, port: closedPort }, resolve));
		assert.match(String((err as NodeJS.ErrnoException).code), /ECONNREFUSED/);
		const err2 = await new Promise<Error>((resolve) => layer.send(req, { transport: 'ws', address: HOST, port: 1 }, resolve));
		assert.equal((err2 as NodeJS.ErrnoException).code, 'UNSUPPORTED');
	});
});

describe('TransportLayer.listen / close', () => {
	it('uses one port number for UDP and TCP with port 0', async (t) => {
		const l = await TransportLayer.listen({ host: HOST, port: 0 });
		t.after(() => l.close());
		const udp = dgram.createSocket('udp4');
		await assert.rejects(
			new Promise<void>((resolve, reject) => {
				udp.once('error', reject);
				udp.bind(l.port, HOST, resolve);
			}),
			{ code: 'EADDRINUSE' },
		);
		udp.close();
		const peer = await TcpPeer.connect(l.port);
		t.after(() => peer.close());
	});

	it('picks another port when TCP cannot have the UDP port number', async (t) => {
		// Make the first TCP listen fail as if the port were taken.
		const listen = net.Server.prototype.listen;
		let calls = 0;
		net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
			if (calls++ === 0) {
				process.nextTick(() => this.emit('error', Object.assign(new Error('taken'), { code: 'EADDRINUSE' })));
				return this;
			}
			return (listen as (...a: unknown[]) => net.Server).apply(this, args);
		} as typeof listen;
		let l: TransportLayer;
		try {
			l = await TransportLayer.listen({ host: HOST, port: 0 });
		} finally {
			net.Server.prototype.listen = listen;
		}
		t.after(() => l.close());
		assert.equal(calls, 2);
		const udp = await UdpPeer.open();
		t.after(() => udp.close());
		const got = collect(l);
		await udp.send(rawRequest(), l.port);
		assert.equal((await got.count(1)).length, 1, 'UDP is on the reported port');
		const peer = await TcpPeer.connect(l.port);
		t.after(() => peer.close());
	});

	it('fails on a taken port and closes every socket and connection on close()', async (t) => {
		const l = await TransportLayer.listen({ host: HOST, port: 0 });
		t.after(() => l.close());
		await assert.rejects(TransportLayer.listen({ host: HOST, port: l.port }), { code: 'EADDRINUSE' });
		const peer = await TcpPeer.connect(l.port);
		t.after(() => peer.close());
		await delay(5);
		assert.equal(l.connectionCount, 1);
		await l.close();
		assert.ok(await peer.until(() => peer.closed));
		// The port is free again for both transports.
		const again = await TransportLayer.listen({ host: HOST, port: l.port });
		await again.close();
	});
});
