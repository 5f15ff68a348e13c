import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from '../../../src/index.js';
import { newBranch, newCallId, TestUA, type SipMessage } from '../../helpers/test-ua.js';
import { digestAuthorization, headerValues, parseChallenge, parseRaw, registerText, TcpSipClient, type Algorithm, type RawResponse } from './digest-client.js';

/**
 * REGISTER over real UDP and TCP on 127.0.0.1: digest challenge and answer
 * (computed by the test's own digest code), bindings listed in the 200,
 * wrong password, replayed nonce-count, NAT source addresses, and bindings
 * surviving a restart with the same data directory.
 */
const USERS = [
	{ extension: '2001', displayName: 'Alice', password: 'alice-secret' },
	{ extension: '2002', displayName: 'Bob', password: 'bob-secret' },
];

async function startServer(dataDir: string): Promise<Server> {
	const server = await createServer({ sip: { host: '127.0.0.1', port: 0, realm: 'itest' }, rooms: [{ name: 'R', number: '1000' }], users: USERS, dataDir });
	await server.start();
	return server;
}

function toRaw(m: SipMessage): RawResponse {
	return parseRaw(m.raw);
}

/** Sends a raw REGISTER from the TestUA's socket and waits for its final response. */
async function udpRequest(ua: TestUA, server: Server, text: string, callId: string, cseq: number): Promise<RawResponse> {
	ua.sendRaw(text, '127.0.0.1', server.sipPort);
	const res = await ua.waitFor((m) => !m.isRequest && m.callId === callId && m.cseq?.seq === cseq && m.status >= 200, 5000, `final response to CSeq ${cseq}`);
	return toRaw(res);
}

interface UdpRegister {
	user?: string;
	password?: string;
	contacts?: string[];
	expires?: number;
	algorithm?: Algorithm;
	sentBy?: string;
}

/** 401 round trip, then the REGISTER with credentials; returns both responses and the Authorization used. */
async function udpRegister(ua: TestUA, server: Server, o: UdpRegister): Promise<{ challenge: RawResponse; final: RawResponse; authorization: string; callId: string; cseq: number }> {
	const callId = newCallId();
	const user = o.user ?? '2001';
	const base = { serverPort: server.sipPort, transport: 'UDP' as const, sentBy: o.sentBy ?? `127.0.0.1:${ua.sipPort}`, user, callId, ...(o.contacts ? { contacts: o.contacts } : {}), ...(o.expires !== undefined ? { expires: o.expires } : {}) };
	const challenge = await udpRequest(ua, server, registerText({ ...base, cseq: 1, branch: newBranch() }), callId, 1);
	assert.equal(challenge.status, 401);
	const values = headerValues(challenge, 'www-authenticate').map(parseChallenge);
	const c = values.find((v) => v.algorithm === (o.algorithm ?? 'SHA-256'));
	assert.ok(c, 'a challenge for the algorithm');
	const authorization = digestAuthorization(c, { username: user, password: o.password ?? USERS.find((u) => u.extension === user)?.password ?? '', method: 'REGISTER', uri: `sip:127.0.0.1:${server.sipPort}` });
	const final = await udpRequest(ua, server, registerText({ ...base, cseq: 2, branch: newBranch(), authorization }), callId, 2);
	return { challenge, final, authorization, callId, cseq: 2 };
}

function contactsOf(r: RawResponse): string[] {
	return headerValues(r, 'contact')
		.flatMap((v) => v.split(/,(?=\s*<)/))
		.map((v) => v.trim())
		.sort();
}

describe('REGISTER over UDP and TCP', () => {
	let dir = '';
	let server: Server;
	let ua: TestUA;

	before(async () => {
		dir = mkdtempSync(join(tmpdir(), 'confsrv-registrar-'));
		server = await startServer(dir);
		ua = await TestUA.create({ user: '2001' });
	});

	after(async () => {
		ua.close();
		await server.stop();
		rmSync(dir, { recursive: true, force: true });
	});

	it('challenges with SHA-256 then MD5, then accepts the answer and lists the contact', async () => {
		const contact = `<sip:2001@127.0.0.1:${ua.sipPort}>`;
		const r = await udpRegister(ua, server, { contacts: [contact], expires: 600 });
		const challenges = headerValues(r.challenge, 'www-authenticate').map(parseChallenge);
		assert.deepEqual(
			challenges.map((c) => c.algorithm),
			['SHA-256', 'MD5'],
		);
		assert.ok(challenges.every((c) => c.realm === 'itest' && c.qop === 'auth'));
		assert.equal(r.final.status, 200, r.final.text);
		assert.deepEqual(contactsOf(r.final), [`${contact};expires=600`]);
		assert.match(headerValues(r.final, 'to')[0] ?? '', /;tag=/);

		// MD5 works as well, and a second contact is added beside the first.
		const md5 = await udpRegister(ua, server, { contacts: ['<sip:2001@192.0.2.50:5060>'], expires: 300, algorithm: 'MD5' });
		assert.equal(md5.final.status, 200);
		assert.deepEqual(contactsOf(md5.final), ['<sip:2001@192.0.2.50:5060>;expires=300', `${contact};expires=600`].sort());
		assert.equal(server.registrar.lookup('2001').length, 2);
	});

	it('answers a wrong password with 403', async () => {
		const r = await udpRegister(ua, server, { user: '2002', password: 'guess', contacts: ['<sip:2002@127.0.0.1:5999>'] });
		assert.equal(r.final.status, 403);
		assert.equal(server.registrar.lookup('2002').length, 0);
	});

	it('challenges again when a nonce-count is replayed', async () => {
		const r = await udpRegister(ua, server, { user: '2002', contacts: ['<sip:2002@127.0.0.1:5999>'], expires: 120 });
		assert.equal(r.final.status, 200);
		const replay = await udpRequest(
			ua,
			server,
			registerText({ serverPort: server.sipPort, transport: 'UDP', sentBy: `127.0.0.1:${ua.sipPort}`, user: '2002', callId: r.callId, cseq: 3, branch: newBranch(), contacts: ['<sip:2002@127.0.0.1:5999>'], authorization: r.authorization }),
			r.callId,
			3,
		);
		assert.equal(replay.status, 401);
		assert.equal(headerValues(replay, 'www-authenticate').length, 2);
	});

	it('answers 423 with Min-Expires below the minimum', async () => {
		const r = await udpRegister(ua, server, { user: '2002', contacts: ['<sip:2002@127.0.0.1:5998>'], expires: 10 });
		assert.equal(r.final.status, 423);
		assert.deepEqual(headerValues(r.final, 'min-expires'), ['60']);
	});

	it('reaches a NATed phone at the source of its REGISTER, not at its private Contact', async () => {
		// The phone thinks it is 10.1.2.3:5060; its packets come from 127.0.0.1:<ua port>.
		const r = await udpRegister(ua, server, { user: '2002', sentBy: '10.1.2.3:5060', contacts: ['<sip:2002@10.1.2.3:5060>'], expires: 600 });
		assert.equal(r.final.status, 200, 'the response reached our real port (rport/received)');
		const via = headerValues(r.final, 'via')[0] ?? '';
		assert.match(via, new RegExp(`received=127\\.0\\.0\\.1`));
		assert.match(via, new RegExp(`rport=${ua.sipPort}`));
		const b = server.registrar.lookup('2002').find((x) => x.contact === 'sip:2002@10.1.2.3:5060');
		assert.deepEqual(b?.source, { transport: 'udp', address: '127.0.0.1', port: ua.sipPort });
	});

	it('registers over TCP and un-registers with Expires: 0 and Contact: *', async () => {
		const tcp = await TcpSipClient.connect(server.sipPort);
		try {
			const callId = newCallId();
			const base = { serverPort: server.sipPort, transport: 'TCP' as const, sentBy: `127.0.0.1:${tcp.localPort}`, user: '2002', callId };
			const contact = `<sip:2002@127.0.0.1:${tcp.localPort};transport=tcp>`;
			tcp.send(registerText({ ...base, cseq: 1, branch: newBranch(), contacts: [contact], expires: 900 }));
			const challenge = await tcp.nextFinal(0);
			assert.equal(challenge.status, 401);
			const c = headerValues(challenge, 'www-authenticate').map(parseChallenge)[0];
			assert.ok(c);
			const uri = `sip:127.0.0.1:${server.sipPort}`;
			const auth = (nc: number): string => digestAuthorization(c, { username: '2002', password: 'bob-secret', method: 'REGISTER', uri, nc });
			let seen = tcp.received.length;
			tcp.send(registerText({ ...base, cseq: 2, branch: newBranch(), contacts: [contact], expires: 900, authorization: auth(1) }));
			const ok = await tcp.nextFinal(seen);
			assert.equal(ok.status, 200, ok.text);
			assert.ok(contactsOf(ok).includes(`${contact};expires=900`));
			const b = server.registrar.lookup('2002').find((x) => x.contact.includes('transport=tcp'));
			assert.equal(b?.source.transport, 'tcp');
			assert.equal(b?.source.port, tcp.localPort);

			// Expires: 0 removes this contact only.
			seen = tcp.received.length;
			tcp.send(registerText({ ...base, cseq: 3, branch: newBranch(), contacts: [contact], expires: 0, authorization: auth(2) }));
			const removed = await tcp.nextFinal(seen);
			assert.equal(removed.status, 200);
			assert.ok(!contactsOf(removed).some((v) => v.includes('transport=tcp')));
			assert.ok(contactsOf(removed).length > 0, 'the UDP contacts of 2002 are still there');

			// Contact: * with Expires: 0 removes them all.
			seen = tcp.received.length;
			tcp.send(registerText({ ...base, cseq: 4, branch: newBranch(), contacts: ['*'], expires: 0, authorization: auth(3) }));
			const wiped = await tcp.nextFinal(seen);
			assert.equal(wiped.status, 200);
			assert.deepEqual(contactsOf(wiped), []);
			assert.equal(server.registrar.lookup('2002').length, 0);
		} finally {
			tcp.close();
		}
	});

	it('keeps bindings across a restart with the same data directory', async () => {
		assert.equal(server.registrar.lookup('2001').length, 2);
		await server.stop();
		server = await startServer(dir);
		assert.equal(server.registrar.lookup('2001').length, 2);
		// A REGISTER without Contact lists the bindings.
		const r = await udpRegister(ua, server, {});
		assert.equal(r.final.status, 200);
		const listed = contactsOf(r.final);
		assert.equal(listed.length, 2);
		assert.ok(listed.some((v) => v.startsWith(`<sip:2001@127.0.0.1:${ua.sipPort}>;expires=`)));
		assert.ok(listed.some((v) => v.startsWith('<sip:2001@192.0.2.50:5060>;expires=')));
	});
});
