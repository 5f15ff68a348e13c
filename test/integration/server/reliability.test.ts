import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { createServer, type Server } from '../../../src/index.js';
import { TestUA } from '../../helpers/test-ua.js';
import { until } from '../../helpers/wait.js';

/** Retransmission, ACK timeout, RTP timeout and shutdown, with raw SIP over UDP. */
async function startServer(extra: Record<string, unknown> = {}): Promise<Server> {
	const server = await createServer({ sip: { host: '127.0.0.1', port: 0 }, rooms: [{ name: 'R', number: '1000' }], ...extra });
	await server.start();
	return server;
}

function rawInvite(serverPort: number, localPort: number, rtpPort: number, callId: string, branch: string): string {
	const sdp = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${rtpPort} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
	return [
		`INVITE sip:1000@127.0.0.1:${serverPort} SIP/2.0`,
		`Via: SIP/2.0/UDP 127.0.0.1:${localPort};branch=${branch}`,
		`From: "Raw" <sip:raw@127.0.0.1:${localPort}>;tag=raw1`,
		'To: <sip:1000@127.0.0.1>',
		`Call-ID: ${callId}`,
		'CSeq: 1 INVITE',
		`Contact: <sip:raw@127.0.0.1:${localPort}>`,
		'Max-Forwards: 70',
		'Content-Type: application/sdp',
		`Content-Length: ${Buffer.byteLength(sdp)}`,
		'',
		sdp,
	].join('\r\n');
}


test('an INVITE sent three times makes one call; an unACKed 200 is retransmitted, then the call is dropped after 64*T1', { timeout: 30_000 }, async () => {
	const t1 = 50; // 64*T1 = 3.2 s
	const server = await startServer({ sip: { host: '127.0.0.1', port: 0, t1Ms: t1 } });
	const sock = dgram.createSocket('udp4');
	await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
	const rtp = dgram.createSocket('udp4');
	await new Promise<void>((r) => rtp.bind(0, '127.0.0.1', r));
	const got: Array<{ at: number; text: string }> = [];
	sock.on('message', (m) => {
		got.push({ at: Date.now(), text: m.toString('latin1') });
		const text = m.toString('latin1');
		if (text.startsWith('BYE ')) {
			// Answer the server's BYE so its client transaction completes.
			const lines = text.split('\r\n');
			const keep = lines.filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l));
			sock.send(['SIP/2.0 200 OK', ...keep, 'Content-Length: 0', '', ''].join('\r\n'), server.sipPort, '127.0.0.1');
		}
	});
	try {
		const port = (sock.address() as { port: number }).port;
		const invite = rawInvite(server.sipPort, port, (rtp.address() as { port: number }).port, 'retx-1', 'z9hG4bK-retx-1');
		const started = Date.now();
		for (let i = 0; i < 3; i++) {
			sock.send(invite, server.sipPort, '127.0.0.1');
			await new Promise((r) => setTimeout(r, 30));
		}
		await until(() => got.some((g) => g.text.startsWith('SIP/2.0 200')), 5000, 'the 200 OK');
		assert.equal(server.stats().calls, 1, 'three copies of the INVITE make one call');
		// No ACK: the 200 keeps coming (T1, 2T1, 4T1 … capped at T2), then BYE.
		await until(() => got.some((g) => g.text.startsWith('BYE ')), 64 * t1 + 5000, 'BYE after the ACK timeout');
		const oks = got.filter((g) => g.text.startsWith('SIP/2.0 200'));
		assert.ok(oks.length >= 5, `200 OK retransmitted (${oks.length} copies)`);
		const bye = got.find((g) => g.text.startsWith('BYE '))!;
		assert.ok(bye.at - started >= 64 * t1 - 100, `dropped after 64*T1 (${bye.at - started} ms)`);
		assert.match(bye.text, /Call-ID: retx-1/);
		await until(() => server.stats().calls === 0, 5000, 'call removed');
		assert.equal(server.stats().rtpPortsInUse, 0);
	} finally {
		sock.close();
		rtp.close();
		await server.stop();
	}
});

test('a call whose RTP stops is hung up with BYE after rtp.timeoutSec', { timeout: 30_000 }, async () => {
	const server = await startServer({ rtp: { timeoutSec: 1 } });
	const ua = await TestUA.create({ user: 'quiet' });
	try {
		const res = await ua.call({ host: '127.0.0.1', port: server.sipPort, user: '1000' }, { sendRtp: false });
		assert.equal(res.status, 200);
		const closed = await ua.waitClosed(10_000);
		assert.equal(closed.by, 'remote', 'the server sent BYE');
		await until(() => server.stats().calls === 0, 5000, 'call removed');
		assert.equal(server.stats().rtpPortsInUse, 0);
	} finally {
		ua.close();
		await server.stop();
	}
});

test('stop() sends BYE to every call and releases everything', { timeout: 30_000 }, async () => {
	const server = await startServer();
	const uas = await Promise.all([TestUA.create({ user: 's1' }), TestUA.create({ user: 's2' })]);
	try {
		for (const ua of uas) {
			assert.equal((await ua.call({ host: '127.0.0.1', port: server.sipPort, user: '1000' }, { tone: 300 })).status, 200);
		}
		await server.stop();
		for (const ua of uas) {
			const closed = await ua.waitClosed(5000);
			assert.equal(closed.by, 'remote');
		}
		const stats = server.stats();
		assert.equal(stats.calls, 0);
		assert.equal(stats.rtpPortsInUse, 0);
	} finally {
		for (const ua of uas) {
			ua.close();
		}
		await server.stop();
	}
});

test('a CANCEL matching no transaction gets 481', { timeout: 30_000 }, async () => {
	// Rooms answer at once, so CANCEL→487 is covered deterministically by the
	// transaction-layer tests (test/unit/sip/transaction).
	const server = await startServer();
	const sock = dgram.createSocket('udp4');
	await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
	const got: string[] = [];
	sock.on('message', (m) => got.push(m.toString('latin1')));
	try {
		const port = (sock.address() as { port: number }).port;
		const cancel = [
			`CANCEL sip:1000@127.0.0.1:${server.sipPort} SIP/2.0`,
			`Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-nomatch`,
			'From: <sip:raw@127.0.0.1>;tag=c1',
			'To: <sip:1000@127.0.0.1>',
			'Call-ID: cancel-none',
			'CSeq: 1 CANCEL',
			'Max-Forwards: 70',
			'Content-Length: 0',
			'',
			'',
		].join('\r\n');
		sock.send(cancel, server.sipPort, '127.0.0.1');
		await until(() => got.length > 0, 5000, 'a response');
		assert.match(got[0]!, /^SIP\/2\.0 481/);
	} finally {
		sock.close();
		await server.stop();
	}
});
