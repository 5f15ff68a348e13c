import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createResponse, getVias, parseMessage } from '../../../src/sip/message/index.js';
import { SipHeaders, type SipMessage, type SipRequest } from '../../../src/sip/message/types.js';
import { TransactionLayer } from '../../../src/sip/transaction/index.js';
import {
	type CertificatePair,
	devCertificate,
	MAX_STREAM_MESSAGE,
	NoConnectionError,
	selfSignedCertificate,
	TransportLayer,
} from '../../../src/sip/transport/index.js';
import { delay, HOST, rawRequest, TcpPeer } from './helpers.js';
import { TlsPeer, WsPeer } from './secure-peers.js';

/** Collects the layer's messages; `count(n)` waits until n have arrived. */
function collect(layer: TransportLayer) {
	const got: SipMessage[] = [];
	layer.on('message', (m) => got.push(m));
	return {
		got,
		async count(n: number, ms = 2000): Promise<SipMessage[]> {
			const end = Date.now() + ms;
			while (got.length < n && Date.now() < end) {
				await delay(2);
			}
			return got;
		},
	};
}

/** Open sockets and servers of this process. */
function netHandles(): number {
	return process.getActiveResourcesInfo().filter((r) => /^(TCP|TLS|UDP|Pipe)/.test(r)).length;
}

/** The handle count once sockets closed by earlier tests have gone (stable for 50 ms). */
async function settledHandles(): Promise<number> {
	let n = netHandles();
	for (let stable = 0; stable < 5; ) {
		await delay(10);
		const m = netHandles();
		stable = m === n ? stable + 1 : 0;
		n = m;
	}
	return n;
}

function portRefuses(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const s = net.connect({ host: HOST, port });
		s.once('connect', () => {
			s.destroy();
			resolve(false);
		});
		s.once('error', () => resolve(true));
	});
}

/** An OPTIONS the server itself sends out on a connection. */
function outgoingOptions(branch: string): SipRequest {
	const h = new SipHeaders();
	h.append('via', `SIP/2.0/WS ${HOST};branch=${branch}`);
	h.append('from', '<sip:conf@127.0.0.1>;tag=s1');
	h.append('to', '<sip:alice@example.invalid>');
	h.append('call-id', `srv-${branch}`);
	h.append('cseq', '1 OPTIONS');
	h.append('max-forwards', '70');
	return { kind: 'request', method: 'OPTIONS', uri: 'sip:alice@example.invalid;transport=ws', version: 'SIP/2.0', headers: h, body: Buffer.alloc(0) };
}

let certDir: string;
let pair: CertificatePair;

before(async () => {
	certDir = await mkdtemp(path.join(os.tmpdir(), 'confsrv-test-cert-'));
	pair = await devCertificate({ dir: certDir });
});

after(async () => {
	await rm(certDir, { recursive: true, force: true });
});

describe('TLS transport', () => {
	let layer: TransportLayer;
	let inbox: ReturnType<typeof collect>;

	before(async () => {
		// No cert given: the development pair cached in certDir is used.
		layer = await TransportLayer.listen({ host: HOST, port: 0, tls: { port: 0 }, devCertDir: certDir });
		inbox = collect(layer);
	});

	after(async () => {
		await layer.close();
	});

	it('listens on a port of its own, with the development certificate', async (t) => {
		assert.ok(layer.tlsPort !== undefined && layer.tlsPort > 0);
		assert.notEqual(layer.tlsPort, layer.port);
		assert.equal(layer.portOf('tls'), layer.tlsPort);
		assert.equal(layer.wsPort, undefined);
		const peer = await TlsPeer.connect(layer.tlsPort);
		t.after(() => peer.close());
		const served = peer.socket.getPeerX509Certificate();
		assert.ok(served);
		assert.equal(served.subject, 'CN=confsrv');
		assert.equal(served.fingerprint256, new X509Certificate(pair.cert).fingerprint256);
	});

	it('answers through the TransactionLayer on the connection the request came on', async (t) => {
		const tx = new TransactionLayer(layer);
		t.after(() => tx.close());
		tx.on('request', (req, st) => st.respond(createResponse(req, 200, 'OK', { toTag: 'tls1' })));
		const peer = await TlsPeer.connect(layer.tlsPort!);
		t.after(() => peer.close());
		inbox.got.length = 0;
		await peer.write(rawRequest({ transport: 'TLS', sentBy: '10.9.9.9:5061', viaParams: ';rport', branch: 'z9hG4bKtls1' }));
		const [msg] = await inbox.count(1);
		assert.ok(msg?.kind === 'request');
		assert.equal(msg.source?.transport, 'tls');
		assert.equal(typeof msg.source?.connectionId, 'number');
		assert.equal(msg.source?.port, peer.socket.localPort);
		const top = getVias(msg)[0]!;
		assert.equal(top.params['received'], HOST);
		assert.equal(top.params['rport'], String(peer.socket.localPort));
		assert.ok(await peer.until(() => peer.data.includes('SIP/2.0 200 OK\r\n')), 'the 200 came back on the same TLS connection');
		assert.match(peer.data, /\r\nVia: SIP\/2\.0\/TLS 10\.9\.9\.9:5061;branch=z9hG4bKtls1;rport=\d+;received=127\.0\.0\.1\r\n/);
		assert.equal(layer.connectionCount, 1);
	});

	it('frames split and pipelined messages, answers a broken one with 400 and survives', async (t) => {
		const peer = await TlsPeer.connect(layer.tlsPort!);
		t.after(() => peer.close());
		inbox.got.length = 0;
		const a = rawRequest({ method: 'MESSAGE', transport: 'TLS', branch: 'z9hG4bKtlsA', body: 'first' });
		const b = rawRequest({ method: 'MESSAGE', transport: 'TLS', branch: 'z9hG4bKtlsB', body: 'second' });
		await peer.write(a.slice(0, 40));
		await delay(5);
		await peer.write(a.slice(40) + b);
		await inbox.count(2);
		assert.deepEqual(
			inbox.got.map((m) => m.body.toString()),
			['first', 'second'],
		);
		await peer.write(rawRequest({ transport: 'TLS', cseq: 'x OPTIONS', branch: 'z9hG4bKtlsC' }));
		assert.ok(await peer.until(() => peer.data.startsWith('SIP/2.0 400 Malformed CSeq\r\n')));
		await peer.write(rawRequest({ transport: 'TLS', branch: 'z9hG4bKtlsD' }));
		await inbox.count(3);
		assert.equal(inbox.got.length, 3);
		assert.equal(peer.closed, false);
	});

	it('opens outgoing TLS connections and reuses them; the answer comes back on it', async (t) => {
		const other = await TransportLayer.listen({ host: HOST, port: 0, udp: false, tcp: false, tls: { port: 0, ...pair } });
		t.after(() => other.close());
		assert.equal(other.port, other.tlsPort, 'with TLS alone, port is the TLS port');
		const client = await TransportLayer.listen({ host: HOST, port: 0, udp: false, tcp: false, tls: { port: 0, ...pair, rejectUnauthorized: false } });
		t.after(() => client.close());
		const seen = collect(other);
		const back = collect(client);
		const req = parseMessage(Buffer.from(rawRequest({ transport: 'TLS', branch: 'z9hG4bKtlsout' })));
		client.send(req, { transport: 'tls', address: HOST, port: other.tlsPort! });
		client.send(req, { transport: 'tls', address: HOST, port: other.tlsPort! });
		await seen.count(2);
		assert.equal(seen.got.length, 2);
		assert.equal(seen.got[0]!.source?.connectionId, seen.got[1]!.source?.connectionId);
		assert.equal(client.connectionCount, 1);
		const first = seen.got[0] as SipRequest;
		other.sendResponse(createResponse(first, 200, 'OK', { toTag: 'o' }), first);
		const [res] = await back.count(1);
		assert.equal(res?.kind, 'response');
		assert.equal(res?.source?.transport, 'tls');
	});

	it('verifies the peer certificate of outgoing connections by default', async (t) => {
		const client = await TransportLayer.listen({ host: HOST, port: 0, udp: false, tcp: false, tls: { port: 0, ...pair } });
		t.after(() => client.close());
		const req = parseMessage(Buffer.from(rawRequest({ transport: 'TLS', branch: 'z9hG4bKverify' })));
		const err = await new Promise<Error>((resolve) => client.send(req, { transport: 'tls', address: HOST, port: layer.tlsPort! }, resolve));
		assert.match(String((err as NodeJS.ErrnoException).code), /SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
		await delay(10);
		assert.equal(client.connectionCount, 0);
	});

	it('serves a configured certificate (here one built by node:crypto alone)', async (t) => {
		const own = await selfSignedCertificate('sip.example.test', 2);
		const l = await TransportLayer.listen({ host: HOST, port: 0, udp: false, tcp: false, tls: { port: 0, cert: own.cert, key: own.key } });
		t.after(() => l.close());
		const peer = await TlsPeer.connect(l.tlsPort!);
		t.after(() => peer.close());
		assert.equal(peer.socket.getPeerX509Certificate()?.subject, 'CN=sip.example.test');
	});

	it('refuses half a certificate pair without leaving a socket open', async () => {
		const before = await settledHandles();
		await assert.rejects(TransportLayer.listen({ host: HOST, port: 0, tls: { port: 0, cert: pair.cert } }), TypeError);
		await assert.rejects(TransportLayer.listen({ host: HOST, port: 0, tls: { port: 0, cert: pair.cert, key: 'not a key' } }));
		assert.equal(await settledHandles(), before);
	});
});

describe('WebSocket transport (RFC 7118)', () => {
	let layer: TransportLayer;
	let inbox: ReturnType<typeof collect>;
	let url: string;

	before(async () => {
		layer = await TransportLayer.listen({ host: HOST, port: 0, ws: { port: 0, path: '/sip' }, wss: { port: 0, ...pair } });
		inbox = collect(layer);
		url = `ws://${HOST}:${layer.wsPort}/sip`;
	});

	after(async () => {
		await layer.close();
	});

	it('takes a request in a text frame and answers on the same WebSocket', async (t) => {
		const peer = await WsPeer.connect(url);
		t.after(() => peer.close());
		assert.equal(peer.ws.protocol, 'sip');
		inbox.got.length = 0;
		await peer.send(rawRequest({ transport: 'WS', sentBy: 'df7jal23ls0d.invalid', viaParams: ';rport', branch: 'z9hG4bKws1' }));
		const [msg] = await inbox.count(1);
		assert.ok(msg?.kind === 'request');
		assert.equal(msg.source?.transport, 'ws');
		assert.equal(typeof msg.source?.connectionId, 'number');
		const top = getVias(msg)[0]!;
		assert.equal(top.transport, 'WS');
		assert.equal(top.params['received'], HOST);
		assert.ok(Number(top.params['rport']) > 0);
		assert.equal(layer.connectionCount, 1);

		layer.sendResponse(createResponse(msg, 200, 'OK', { toTag: 'w1' }), msg);
		const frame = await peer.next((f) => f.text.startsWith('SIP/2.0 200 OK\r\n'));
		assert.ok(frame, 'the 200 came back on the WebSocket');
		assert.equal(frame.binary, false, 'UTF-8 goes in a text frame');
		assert.match(frame.text, /\r\nVia: SIP\/2\.0\/WS df7jal23ls0d\.invalid;branch=z9hG4bKws1;rport=\d+;received=127\.0\.0\.1\r\n/);
		assert.match(frame.text, /\r\nContent-Length: 0\r\n\r\n$/);
	});

	it('takes binary frames, and sends in-dialog requests on the connection until it closes', async (t) => {
		const peer = await WsPeer.connect(url);
		t.after(() => peer.close());
		inbox.got.length = 0;
		await peer.send(Buffer.from(rawRequest({ method: 'INVITE', transport: 'WS', sentBy: 'x.invalid', branch: 'z9hG4bKws2', cseq: '1 INVITE' })), true);
		const [msg] = await inbox.count(1);
		assert.ok(msg?.kind === 'request' && msg.source);
		const dest = { ...msg.source };

		// The server, as UAS of the dialog, sends a request back to the client.
		layer.send(outgoingOptions('z9hG4bKsrv1'), dest);
		const frame = await peer.next((f) => f.text.startsWith('OPTIONS sip:alice@example.invalid;transport=ws SIP/2.0\r\n'));
		assert.ok(frame, 'the in-dialog request reached the client');

		peer.close();
		assert.ok(await peer.until(() => layer.connectionCount === 0));
		const err = await new Promise<Error>((resolve) => layer.send(outgoingOptions('z9hG4bKsrv2'), dest, resolve));
		assert.ok(err instanceof NoConnectionError);
		assert.equal((err as NoConnectionError).code, 'SIP_NO_CONNECTION');
	});

	it('refuses a handshake without the sip subprotocol, or on another path', async (t) => {
		await assert.rejects(WsPeer.connect(url, []), { status: 400 });
		await assert.rejects(WsPeer.connect(url, ['chat']), { status: 400 });
		await assert.rejects(WsPeer.connect(`ws://${HOST}:${layer.wsPort}/other`), { status: 404 });
		const both = await WsPeer.connect(url, ['chat', 'sip']);
		t.after(() => both.close());
		assert.equal(both.ws.protocol, 'sip');

		// Plain HTTP on the WebSocket port is told to upgrade.
		const status = await new Promise<number | undefined>((resolve, reject) => {
			http.get({ host: HOST, port: layer.wsPort, path: '/sip', agent: false }, (res) => {
				res.resume();
				resolve(res.statusCode);
			}).on('error', reject);
		});
		assert.equal(status, 426);
	});

	it('answers a malformed request with 400, drops garbage, answers pings, and keeps the connection', async (t) => {
		const peer = await WsPeer.connect(url);
		t.after(() => peer.close());
		inbox.got.length = 0;
		await peer.send(rawRequest({ transport: 'WS', sentBy: 'b.invalid', cseq: 'abc OPTIONS', branch: 'z9hG4bKbad' }));
		const bad = await peer.next((f) => f.text.startsWith('SIP/2.0 '));
		assert.ok(bad, 'a 400 came back');
		assert.match(bad.text, /^SIP\/2\.0 400 Malformed CSeq\r\n/);
		assert.match(bad.text, /\r\nCSeq: abc OPTIONS\r\n/);

		const seen = peer.frames.length;
		await peer.send('this is not SIP at all');
		await peer.send(Buffer.from([0xff, 0x00, 0x13]), true);
		await peer.send('\r\n\r\n');
		const pong = await peer.next(() => true, seen);
		assert.equal(pong?.text, '\r\n', 'a double-CRLF ping gets a CRLF');
		await delay(20);
		assert.equal(peer.frames.length, seen + 1, 'garbage gets no answer');
		assert.equal(peer.closed, false);

		// No Content-Length is needed: the frame is the message.
		await peer.send(rawRequest({ transport: 'WS', sentBy: 'b.invalid', branch: 'z9hG4bKgood', body: 'hi' }).replace(/Content-Length: 2\r\n/, ''));
		const [msg] = await inbox.count(1);
		assert.equal(inbox.got.length, 1, 'nothing malformed reached the upper layer');
		assert.equal(msg?.body.toString(), 'hi');
	});

	it('closes a WebSocket that sends a message over 64 KiB', async (t) => {
		const peer = await WsPeer.connect(url);
		t.after(() => peer.close());
		await peer.send(rawRequest({ transport: 'WS', body: 'x'.repeat(MAX_STREAM_MESSAGE + 1) }));
		assert.ok(await peer.until(() => peer.closed));
		assert.equal(peer.closeCode, 1009);
	});

	it('serves wss with the TLS certificate; Via WSS, source wss', async (t) => {
		assert.ok(layer.wssPort !== undefined && layer.wssPort !== layer.wsPort);
		const peer = await WsPeer.connect(`wss://${HOST}:${layer.wssPort}/`);
		t.after(() => peer.close());
		inbox.got.length = 0;
		await peer.send(rawRequest({ transport: 'WSS', sentBy: 's.invalid', branch: 'z9hG4bKwss' }));
		const [msg] = await inbox.count(1);
		assert.ok(msg?.kind === 'request');
		assert.equal(msg.source?.transport, 'wss');
		layer.sendResponse(createResponse(msg, 200, 'OK', { toTag: 's' }), msg);
		const frame = await peer.next((f) => f.text.startsWith('SIP/2.0 200 OK\r\n'));
		assert.ok(frame);
		assert.match(frame.text, /\r\nVia: SIP\/2\.0\/WSS s\.invalid;branch=z9hG4bKwss;received=127\.0\.0\.1\r\n/);
	});

	it('works under the TransactionLayer', async (t) => {
		const tx = new TransactionLayer(layer);
		t.after(() => tx.close());
		tx.on('request', (req, st) => st.respond(createResponse(req, 200, 'OK', { toTag: 'txw' })));
		const peer = await WsPeer.connect(url);
		t.after(() => peer.close());
		await peer.send(rawRequest({ transport: 'WS', sentBy: 't.invalid', viaParams: ';rport', branch: 'z9hG4bKwstx' }));
		const frame = await peer.next((f) => f.text.startsWith('SIP/2.0 200 OK\r\n'));
		assert.ok(frame);
		assert.match(frame.text, /;tag=txw\r\n/);
	});
});

describe('TransportLayer.close() with every transport', () => {
	it('closes connections of every kind, half-done handshakes included, and frees the ports', async () => {
		const baseline = await settledHandles();
		const l = await TransportLayer.listen({ host: HOST, port: 0, tls: { port: 0, ...pair }, ws: { port: 0 }, wss: { port: 0 } });
		const ports = [l.port, l.tlsPort!, l.wsPort!, l.wssPort!];
		const tcp = await TcpPeer.connect(l.port);
		const tlsPeer = await TlsPeer.connect(l.tlsPort!);
		const wsPeer = await WsPeer.connect(`ws://${HOST}:${l.wsPort}/`);
		const wssPeer = await WsPeer.connect(`wss://${HOST}:${l.wssPort}/`);
		// A TCP connection to the TLS port that never starts its handshake, and
		// an idle one to the WebSocket port that never sends its request.
		const halfTls = await TcpPeer.connect(l.tlsPort!);
		const idleHttp = await TcpPeer.connect(l.wsPort!);
		await delay(20);
		assert.equal(l.connectionCount, 4);

		await l.close();
		assert.equal(l.connectionCount, 0);
		assert.ok(await tcp.until(() => tcp.closed));
		assert.ok(await tlsPeer.until(() => tlsPeer.closed));
		assert.ok(await wsPeer.until(() => wsPeer.closed));
		assert.ok(await wssPeer.until(() => wssPeer.closed));
		assert.ok(await halfTls.until(() => halfTls.closed));
		assert.ok(await idleHttp.until(() => idleHttp.closed));
		for (const p of ports) {
			assert.ok(await portRefuses(p), `port ${p} is closed`);
		}
		assert.equal(await settledHandles(), baseline, 'no socket or server handle is left');
	});
});
