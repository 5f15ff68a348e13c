import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { createServer, type Server } from '../../../src/index.js';
import { newBranch, newCallId, newTag, TestUA } from '../../helpers/test-ua.js';
import { digestAuthorization, parseChallenge, parseRaw } from './digest-client.js';

/**
 * The UA's guards over real UDP: INVITE authentication (407 for users, none
 * for strangers calling rooms), Max-Forwards 0 (483), loops (482: merged
 * requests and our own Via coming back), and the per-source rate limit.
 */
async function startServer(extra: Record<string, unknown> = {}): Promise<Server> {
	const server = await createServer({
		sip: { host: '127.0.0.1', port: 0 },
		rooms: [{ name: 'R', number: '1000' }],
		users: [{ extension: '2001', displayName: 'Alice', password: 'alice-secret' }],
		...extra,
	});
	await server.start();
	return server;
}

function options(o: { port: number; localPort: number; callId?: string; fromTag?: string; cseq?: number; branch?: string; maxForwards?: number; method?: string }): string {
	const method = o.method ?? 'OPTIONS';
	return [
		`${method} sip:1000@127.0.0.1:${o.port} SIP/2.0`,
		`Via: SIP/2.0/UDP 127.0.0.1:${o.localPort};branch=${o.branch ?? newBranch()};rport`,
		`Max-Forwards: ${o.maxForwards ?? 70}`,
		`From: <sip:raw@127.0.0.1>;tag=${o.fromTag ?? newTag()}`,
		'To: <sip:1000@127.0.0.1>',
		`Call-ID: ${o.callId ?? newCallId()}`,
		`CSeq: ${o.cseq ?? 1} ${method}`,
		'Content-Length: 0',
		'',
		'',
	].join('\r\n');
}

test('INVITE: a configured user is challenged (407) and gets in with credentials; a stranger gets in without', { timeout: 30_000 }, async () => {
	const server = await startServer();
	const alice = await TestUA.create({ user: '2001' });
	const stranger = await TestUA.create({ user: 'outside' });
	try {
		const target = { host: '127.0.0.1', port: server.sipPort, user: '1000' };
		const first = await alice.call(target, { fromUser: '2001' });
		assert.equal(first.status, 407);
		const challenges = first.response.headerAll('proxy-authenticate').map(parseChallenge);
		assert.deepEqual(
			challenges.map((c) => c.algorithm),
			['SHA-256', 'MD5'],
		);
		assert.equal(server.calls.size, 0);

		const wrong = digestAuthorization(challenges[0]!, { username: '2001', password: 'nope', method: 'INVITE', uri: `sip:1000@127.0.0.1:${server.sipPort}` });
		const refused = await alice.call(target, { fromUser: '2001', extraHeaders: [['Proxy-Authorization', wrong]] });
		assert.equal(refused.status, 403);

		const again = await alice.call(target, { fromUser: '2001' });
		assert.equal(again.status, 407);
		const c = again.response.headerAll('proxy-authenticate').map(parseChallenge).find((x) => x.algorithm === 'MD5');
		assert.ok(c);
		const credentials = digestAuthorization(c, { username: '2001', password: 'alice-secret', method: 'INVITE', uri: `sip:1000@127.0.0.1:${server.sipPort}` });
		const ok = await alice.call(target, { fromUser: '2001', extraHeaders: [['Proxy-Authorization', credentials]] });
		assert.equal(ok.status, 200);

		const outside = await stranger.call(target, { fromUser: '+4930555' });
		assert.equal(outside.status, 200, 'callers from outside reach rooms without credentials');
		assert.ok(!stranger.responses.some((r) => r.status === 407));
		assert.equal(server.calls.size, 2);
		await alice.bye();
		await stranger.bye();
	} finally {
		alice.close();
		stranger.close();
		await server.stop();
	}
});

test('authenticateRoomCalls: strangers must authenticate to enter a room', { timeout: 30_000 }, async () => {
	const server = await startServer({ sip: { host: '127.0.0.1', port: 0, authenticateRoomCalls: true } });
	const ua = await TestUA.create({ user: 'outside' });
	try {
		const res = await ua.call({ host: '127.0.0.1', port: server.sipPort, user: '1000' });
		assert.equal(res.status, 407);
	} finally {
		ua.close();
		await server.stop();
	}
});

test('Max-Forwards: 0 gets 483; a merged request (same From tag, Call-ID, CSeq, new branch) gets 482', { timeout: 30_000 }, async () => {
	const server = await startServer();
	const ua = await TestUA.create({ user: 'raw' });
	try {
		const port = server.sipPort;
		const callId = newCallId();
		ua.sendRaw(options({ port, localPort: ua.sipPort, callId, maxForwards: 0, method: 'INFO' }), '127.0.0.1', port);
		const hops = await ua.waitForResponse(callId, 'INFO');
		assert.equal(hops.status, 483);

		const merged = newCallId();
		const fromTag = newTag();
		ua.sendRaw(options({ port, localPort: ua.sipPort, callId: merged, fromTag, cseq: 7 }), '127.0.0.1', port);
		const first = await ua.waitForResponse(merged, 'OPTIONS');
		assert.equal(first.status, 200);
		// The first transaction lives on (Timer J, 64*T1 on UDP): a copy by another path is a loop.
		ua.sendRaw(options({ port, localPort: ua.sipPort, callId: merged, fromTag, cseq: 7 }), '127.0.0.1', port);
		const second = await ua.waitFor((m) => !m.isRequest && m.callId === merged && m.status === 482, 5000, '482 to the merged copy');
		assert.equal(second.reason, 'Loop Detected (merged request)');
		// A new CSeq in the same call is a new request, not a loop.
		ua.sendRaw(options({ port, localPort: ua.sipPort, callId: merged, fromTag, cseq: 8 }), '127.0.0.1', port);
		const third = await ua.waitFor((m) => !m.isRequest && m.callId === merged && m.cseq?.seq === 8, 5000, 'answer to CSeq 8');
		assert.equal(third.status, 200);
	} finally {
		ua.close();
		await server.stop();
	}
});

test('a request carrying our own Via (it looped back to us) gets 482', { timeout: 30_000 }, async () => {
	// RTP timeout 1 s with a caller that sends no RTP: the server sends BYE.
	const server = await startServer({ rtp: { timeoutSec: 1 } });
	const ua = await TestUA.create({ user: 'looper' });
	try {
		const res = await ua.call({ host: '127.0.0.1', port: server.sipPort, user: '1000' }, { sendRtp: false });
		assert.equal(res.status, 200);
		const bye = await ua.waitForRequest('BYE', 10_000);
		assert.match(bye.header('via') ?? '', new RegExp(`127\\.0\\.0\\.1:${server.sipPort};branch=`));
		// Send the server's own BYE back to it, as a proxy that loops would: its Via under ours.
		const looped = bye.raw.replace(/^(BYE [^\r\n]+\r\n)/, `$1Via: SIP/2.0/UDP 127.0.0.1:${ua.sipPort};branch=${newBranch()};rport\r\n`);
		ua.sendRaw(looped, '127.0.0.1', server.sipPort);
		const answer = await ua.waitFor((m) => !m.isRequest && m.cseq?.method === 'BYE' && m.status === 482, 5000, '482 to the looped BYE');
		assert.equal(answer.reason, 'Loop Detected');
	} finally {
		ua.close();
		await server.stop();
	}
});

test('a burst over the per-source rate limit is dropped and the server still serves afterwards', { timeout: 30_000 }, async () => {
	const server = await startServer({ sip: { host: '127.0.0.1', port: 0, rateLimit: { perSecond: 10, burst: 20 } } });
	const sock = dgram.createSocket('udp4');
	await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
	const statuses: number[] = [];
	sock.on('message', (m) => statuses.push(parseRaw(m.toString('latin1')).status));
	const localPort = sock.address().port;
	try {
		for (let i = 0; i < 100; i++) {
			sock.send(options({ port: server.sipPort, localPort }), server.sipPort, '127.0.0.1');
		}
		await new Promise((r) => setTimeout(r, 1000));
		const answered = statuses.filter((s) => s === 200).length;
		assert.ok(answered >= 20 && answered <= 35, `about burst + rate answered, got ${answered}`);
		// The bucket refills: a later request is served.
		await new Promise((r) => setTimeout(r, 1500));
		const before = statuses.length;
		const callId = newCallId();
		sock.send(options({ port: server.sipPort, localPort, callId }), server.sipPort, '127.0.0.1');
		const deadline = Date.now() + 3000;
		while (statuses.length === before && Date.now() < deadline) {
			await new Promise((r) => setTimeout(r, 20));
		}
		assert.equal(statuses[before], 200);
		// And a whole call still goes through.
		const ua = await TestUA.create({ user: 'other' });
		try {
			const res = await ua.call({ host: '127.0.0.1', port: server.sipPort, user: '1000' });
			assert.equal(res.status, 200);
			await ua.bye();
		} finally {
			ua.close();
		}
	} finally {
		sock.close();
		await server.stop();
	}
});
