import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { ManualClock } from '../../../src/common/time.js';
import { Registrar, RepositoryRegistrationStore, type RegisterReply, type RegistrationStore } from '../../../src/calls/registrar.js';
import { openStore } from '../../../src/store/index.js';
import { RequestAuthenticator, UserDirectory } from '../../../src/calls/users.js';
import { buildAuthorization, ha1ForAllAlgorithms, parseAuthHeader } from '../../../src/sip/auth/index.js';
import { parseMessage, type SipAddress, type SipRequest } from '../../../src/sip/message/index.js';

/**
 * Registrar logic without sockets: REGISTER text in, RegisterReply out, time
 * driven by a ManualClock. Credentials come from sip/auth's client side.
 */
const REALM = 'test.realm';
const PASSWORDS: Record<string, string> = { '2001': 'secret-2001', '2002': 'secret-2002' };
const NAT_SOURCE: SipAddress = { transport: 'udp', address: '203.0.113.7', port: 40123 };

function users(): UserDirectory {
	return new UserDirectory(
		Object.entries(PASSWORDS).map(([extension, pw]) => ({ extension, displayName: `Phone ${extension}`, ha1: ha1ForAllAlgorithms(extension, REALM, pw) })),
		REALM,
	);
}

interface Fixture {
	clock: ManualClock;
	auth: RequestAuthenticator;
	registrar: Registrar;
}

function fixture(opts: { store?: RegistrationStore; clock?: ManualClock; maxContactsPerAor?: number } = {}): Fixture {
	const clock = opts.clock ?? new ManualClock();
	const auth = new RequestAuthenticator({ users: users(), clock });
	const registrar = new Registrar({
		auth,
		minExpires: 60,
		maxExpires: 3600,
		defaultExpires: 1800,
		clock,
		...(opts.store ? { store: opts.store } : {}),
		...(opts.maxContactsPerAor !== undefined ? { maxContactsPerAor: opts.maxContactsPerAor } : {}),
	});
	return { clock, auth, registrar };
}

interface RegisterOpts {
	aor?: string;
	contacts?: string[];
	expires?: number | string;
	callId?: string;
	cseq?: number;
	authorization?: string;
	source?: SipAddress;
}

let cseqCounter = 1;

function registerRequest(o: RegisterOpts): SipRequest {
	const aor = o.aor ?? '2001';
	const lines = [
		`REGISTER sip:${REALM} SIP/2.0`,
		`Via: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK-${Math.random().toString(36).slice(2)};rport`,
		`From: <sip:${aor}@${REALM}>;tag=f1`,
		`To: <sip:${aor}@${REALM}>`,
		`Call-ID: ${o.callId ?? 'call-1'}`,
		`CSeq: ${o.cseq ?? cseqCounter++} REGISTER`,
		'Max-Forwards: 70',
		'User-Agent: unit-phone/1.0',
	];
	for (const c of o.contacts ?? []) {
		lines.push(`Contact: ${c}`);
	}
	if (o.expires !== undefined) {
		lines.push(`Expires: ${o.expires}`);
	}
	if (o.authorization !== undefined) {
		lines.push(`Authorization: ${o.authorization}`);
	}
	lines.push('Content-Length: 0', '', '');
	const msg = parseMessage(Buffer.from(lines.join('\r\n')));
	assert.equal(msg.kind, 'request');
	const req = msg as SipRequest;
	req.source = o.source ?? NAT_SOURCE;
	return req;
}

function header(reply: RegisterReply, name: string): string[] {
	return reply.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
}

/** 401 round then the authorized REGISTER; returns the second reply. */
function register(f: Fixture, o: RegisterOpts & { user?: string; password?: string; algorithm?: 'MD5' | 'SHA-256' } = {}): RegisterReply {
	const first = f.registrar.handleRegister(registerRequest({ ...o, cseq: o.cseq !== undefined ? o.cseq - 1 : cseqCounter++ }));
	assert.equal(first.status, 401);
	const challenges = header(first, 'www-authenticate');
	const challenge = challenges.find((c) => (o.algorithm ? c.includes(`algorithm=${o.algorithm}`) : true)) ?? '';
	const user = o.user ?? o.aor ?? '2001';
	const authorization = buildAuthorization({ challenge, username: user, password: o.password ?? PASSWORDS[user] ?? 'x', method: 'REGISTER', uri: `sip:${REALM}`, nc: 1 });
	return f.registrar.handleRegister(registerRequest({ ...o, authorization }));
}

/** Contact header values of a 200 as { uri, expires }. */
function contactsOf(reply: RegisterReply): Array<{ uri: string; expires: number; q?: string }> {
	return header(reply, 'contact').map((v) => {
		const m = /^<([^>]+)>;expires=(\d+)(?:;q=([\d.]+))?$/.exec(v);
		assert.ok(m, `unexpected Contact ${v}`);
		return { uri: m[1] ?? '', expires: Number(m[2]), ...(m[3] !== undefined ? { q: m[3] } : {}) };
	});
}

describe('Registrar: authentication', () => {
	it('challenges with SHA-256 then MD5, qop=auth, one nonce', () => {
		const f = fixture();
		const reply = f.registrar.handleRegister(registerRequest({ contacts: ['<sip:2001@192.168.1.20:5060>'] }));
		assert.equal(reply.status, 401);
		const values = header(reply, 'www-authenticate').map(parseAuthHeader);
		assert.deepEqual(
			values.map((v) => v.params['algorithm']),
			['SHA-256', 'MD5'],
		);
		assert.ok(values.every((v) => v.params['qop'] === 'auth' && v.params['realm'] === REALM));
		assert.equal(values[0]?.params['nonce'], values[1]?.params['nonce']);
		assert.equal(f.registrar.size, 0);
	});

	it('accepts MD5 and SHA-256 credentials', () => {
		for (const algorithm of ['MD5', 'SHA-256'] as const) {
			const f = fixture();
			const reply = register(f, { contacts: ['<sip:2001@192.168.1.20:5060>'], algorithm });
			assert.equal(reply.status, 200, algorithm);
			assert.equal(f.registrar.size, 1);
		}
	});

	it('refuses a wrong password and an unknown user with 403 after the challenge', () => {
		const f = fixture();
		assert.equal(register(f, { contacts: ['<sip:2001@h>'], password: 'guess' }).status, 403);
		// To names a user that does not exist: challenged like any other, then refused.
		const unknown = register(f, { aor: '2999', contacts: ['<sip:2999@h>'], user: '2999', password: 'x' });
		assert.equal(unknown.status, 403);
		assert.equal(f.registrar.size, 0);
	});

	it('refuses credentials of one user for another user’s AOR', () => {
		const f = fixture();
		const reply = register(f, { aor: '2002', user: '2001', contacts: ['<sip:2002@h>'] });
		assert.equal(reply.status, 403);
		assert.equal(f.registrar.lookup('2002').length, 0);
	});

	it('re-challenges a replayed nonce-count, and an expired nonce with stale=true', () => {
		const f = fixture();
		const first = f.registrar.handleRegister(registerRequest({ contacts: ['<sip:2001@h>'] }));
		const challenge = header(first, 'www-authenticate')[0] ?? '';
		const authorization = buildAuthorization({ challenge, username: '2001', password: PASSWORDS['2001'] ?? '', method: 'REGISTER', uri: `sip:${REALM}`, nc: 1 });
		assert.equal(f.registrar.handleRegister(registerRequest({ contacts: ['<sip:2001@h>'], authorization })).status, 200);
		const replay = f.registrar.handleRegister(registerRequest({ contacts: ['<sip:2001@h>'], authorization }));
		assert.equal(replay.status, 401);
		assert.ok(!header(replay, 'www-authenticate').some((v) => v.includes('stale=true')));

		const second = f.registrar.handleRegister(registerRequest({ contacts: ['<sip:2001@h>'] }));
		const late = buildAuthorization({ challenge: header(second, 'www-authenticate')[0] ?? '', username: '2001', password: PASSWORDS['2001'] ?? '', method: 'REGISTER', uri: `sip:${REALM}`, nc: 1 });
		f.clock.advance(6 * 60_000);
		const stale = f.registrar.handleRegister(registerRequest({ contacts: ['<sip:2001@h>'], authorization: late }));
		assert.equal(stale.status, 401);
		assert.ok(header(stale, 'www-authenticate').every((v) => v.includes('stale=true')));
	});

	it('answers malformed credentials with 400', () => {
		const f = fixture();
		const reply = f.registrar.handleRegister(registerRequest({ contacts: ['<sip:2001@h>'], authorization: 'Digest username="2001", realm=' }));
		assert.equal(reply.status, 400);
	});
});

describe('Registrar: bindings', () => {
	it('keeps several contacts per user and lists them all with their remaining time', () => {
		const f = fixture();
		assert.equal(register(f, { contacts: ['<sip:2001@192.168.1.20:5060>'], expires: 600, callId: 'desk' }).status, 200);
		f.clock.advance(100_000);
		const reply = register(f, { contacts: ['<sip:2001@10.0.0.9:5062;transport=tcp>;q=0.5'], expires: 300, callId: 'soft' });
		assert.equal(reply.status, 200);
		const listed = contactsOf(reply).sort((a, b) => a.uri.localeCompare(b.uri));
		assert.deepEqual(listed, [
			{ uri: 'sip:2001@10.0.0.9:5062;transport=tcp', expires: 300, q: '0.5' },
			{ uri: 'sip:2001@192.168.1.20:5060', expires: 500 },
		]);
		assert.ok(header(reply, 'date')[0]?.endsWith('GMT'));
		const found = f.registrar.lookup('2001');
		assert.equal(found.length, 2);
		assert.equal(found[0]?.contact, 'sip:2001@192.168.1.20:5060', 'q=1 (absent) before q=0.5');
		assert.equal(f.registrar.lookup('2002').length, 0);
	});

	it('records where the REGISTER came from as the reach address (NAT)', () => {
		const f = fixture();
		register(f, { contacts: ['<sip:2001@192.168.1.20:5060>'], source: { transport: 'tcp', address: '198.51.100.4', port: 51000, connectionId: 7 } });
		const [b] = f.registrar.lookup('2001');
		assert.deepEqual(b?.source, { transport: 'tcp', address: '198.51.100.4', port: 51000, connectionId: 7 });
		assert.equal(b?.contact, 'sip:2001@192.168.1.20:5060');
		assert.equal(b?.userAgent, 'unit-phone/1.0');
	});

	it('takes the contact expires parameter over the Expires header, and the default without either', () => {
		const f = fixture();
		const reply = register(f, { contacts: ['<sip:2001@a>;expires=120', '<sip:2001@b>'], expires: 900 });
		assert.deepEqual(
			contactsOf(reply)
				.map((c) => `${c.uri}=${c.expires}`)
				.sort(),
			['sip:2001@a=120', 'sip:2001@b=900'],
		);
		const g = fixture();
		assert.deepEqual(
			contactsOf(register(g, { contacts: ['<sip:2001@c>'] })).map((c) => c.expires),
			[1800],
		);
	});

	it('answers 423 with Min-Expires below the minimum, and caps at the maximum', () => {
		const f = fixture();
		const brief = register(f, { contacts: ['<sip:2001@a>'], expires: 30 });
		assert.equal(brief.status, 423);
		assert.deepEqual(header(brief, 'min-expires'), ['60']);
		assert.equal(f.registrar.size, 0);
		const briefParam = register(f, { contacts: ['<sip:2001@a>;expires=59', '<sip:2001@b>;expires=600'] });
		assert.equal(briefParam.status, 423, 'one brief contact fails the whole request');
		assert.equal(f.registrar.size, 0);
		const capped = register(f, { contacts: ['<sip:2001@a>'], expires: 999_999 });
		assert.equal(capped.status, 200);
		assert.deepEqual(contactsOf(capped).map((c) => c.expires), [3600]);
	});

	it('expires bindings with one sweep timer, cleared on close', () => {
		const f = fixture();
		const gone: Array<[string, string]> = [];
		f.registrar.on('unregistered', (b, reason) => gone.push([b.contact, reason]));
		register(f, { contacts: ['<sip:2001@a>;expires=120', '<sip:2001@b>;expires=600'], callId: 'x' });
		register(f, { aor: '2002', contacts: ['<sip:2002@c>'], expires: 300 });
		assert.equal(f.clock.pending, 1, 'one timer for all bindings');
		f.clock.advance(119_000);
		assert.equal(f.registrar.lookup('2001').length, 2);
		f.clock.advance(2_000);
		assert.deepEqual(
			f.registrar.lookup('2001').map((b) => b.contact),
			['sip:2001@b'],
		);
		assert.deepEqual(gone, [['sip:2001@a', 'expired']]);
		f.clock.advance(600_000);
		assert.equal(f.registrar.size, 0);
		assert.equal(gone.length, 3);
		assert.equal(f.clock.pending, 0, 'no timer without bindings');
		register(f, { contacts: ['<sip:2001@a>'], expires: 600 });
		assert.equal(f.clock.pending, 1);
		f.registrar.close();
		assert.equal(f.clock.pending, 0);
	});

	it('un-registers one contact with Expires: 0 (header or parameter)', () => {
		const f = fixture();
		register(f, { contacts: ['<sip:2001@a>', '<sip:2001@b>', '<sip:2001@c>'], expires: 600, callId: 'c1' });
		const reply = register(f, { contacts: ['<sip:2001@a>'], expires: 0, callId: 'c1' });
		assert.equal(reply.status, 200);
		assert.deepEqual(
			contactsOf(reply)
				.map((c) => c.uri)
				.sort(),
			['sip:2001@b', 'sip:2001@c'],
		);
		register(f, { contacts: ['<sip:2001@B>;expires=0'], callId: 'other-call' });
		assert.deepEqual(
			f.registrar.lookup('2001').map((b) => b.contact),
			['sip:2001@c'],
			'the host compares case-insensitively',
		);
	});

	it('removes every contact with Contact: * and Expires: 0', () => {
		const f = fixture();
		register(f, { contacts: ['<sip:2001@a>', '<sip:2001@b>'], expires: 600 });
		register(f, { aor: '2002', contacts: ['<sip:2002@c>'], expires: 600 });
		const reply = register(f, { contacts: ['*'], expires: 0, callId: 'wipe' });
		assert.equal(reply.status, 200);
		assert.deepEqual(header(reply, 'contact'), []);
		assert.equal(f.registrar.lookup('2001').length, 0);
		assert.equal(f.registrar.lookup('2002').length, 1, 'other users keep theirs');
	});

	it('refuses Contact: * without Expires: 0 or with other contacts', () => {
		const f = fixture();
		register(f, { contacts: ['<sip:2001@a>'], expires: 600 });
		assert.equal(register(f, { contacts: ['*'] }).status, 400);
		assert.equal(register(f, { contacts: ['*'], expires: 60 }).status, 400);
		assert.equal(register(f, { contacts: ['*', '<sip:2001@b>'], expires: 0 }).status, 400);
		assert.equal(f.registrar.size, 1);
	});

	it('applies Call-ID/CSeq ordering (RFC 3261 §10.3 step 7)', () => {
		const f = fixture();
		assert.equal(register(f, { contacts: ['<sip:2001@a>'], expires: 600, callId: 'same', cseq: 10 }).status, 200);
		// Same Call-ID, CSeq not higher: aborted, nothing changes.
		const older = register(f, { contacts: ['<sip:2001@a>', '<sip:2001@b>'], expires: 0, callId: 'same', cseq: 10 });
		assert.equal(older.status, 500);
		assert.equal(f.registrar.lookup('2001').length, 1);
		assert.equal(register(f, { contacts: ['*'], expires: 0, callId: 'same', cseq: 8 }).status, 500);
		assert.equal(f.registrar.lookup('2001').length, 1);
		// Higher CSeq in the same Call-ID updates.
		assert.equal(register(f, { contacts: ['<sip:2001@a>'], expires: 120, callId: 'same', cseq: 12 }).status, 200);
		assert.equal(f.registrar.lookup('2001')[0]?.cseq, 12);
		// Another Call-ID (a rebooted phone) wins whatever its CSeq.
		assert.equal(register(f, { contacts: ['<sip:2001@a>'], expires: 300, callId: 'rebooted', cseq: 2 }).status, 200);
		const [b] = f.registrar.lookup('2001');
		assert.equal(b?.callId, 'rebooted');
		assert.equal(b?.expiresAt, f.clock.now() + 300_000);
	});

	it('lists the bindings for a REGISTER without Contact, changing nothing', () => {
		const f = fixture();
		register(f, { contacts: ['<sip:2001@a>'], expires: 600 });
		f.clock.advance(10_000);
		const reply = register(f, {});
		assert.equal(reply.status, 200);
		assert.deepEqual(contactsOf(reply), [{ uri: 'sip:2001@a', expires: 590 }]);
	});

	it('caps the contacts per user with 403', () => {
		const f = fixture({ maxContactsPerAor: 2 });
		assert.equal(register(f, { contacts: ['<sip:2001@a>', '<sip:2001@b>'], expires: 600 }).status, 200);
		assert.equal(register(f, { contacts: ['<sip:2001@c>'], expires: 600 }).status, 403);
		// Replacing one in the same request fits.
		assert.equal(register(f, { contacts: ['<sip:2001@a>;expires=0', '<sip:2001@c>'], expires: 600 }).status, 200);
		assert.equal(f.registrar.size, 2);
	});

	it('answers a malformed Contact with 400 and changes nothing', () => {
		const f = fixture();
		assert.equal(register(f, { contacts: ['<sip:2001@a'], expires: 600 }).status, 400);
		assert.equal(register(f, { contacts: ['<mailto:x@y>'], expires: 600 }).status, 400);
		assert.equal(f.registrar.size, 0);
	});
});

describe('Registrar: persistence', () => {
	let dir = '';
	beforeEach(() => {
		dir = mkdtempSync(join(tmpdir(), 'confsrv-reg-'));
	});
	afterEach(() => {
		rmSync(dir, { recursive: true, force: true });
	});

	it('reloads bindings from the database on start and drops the ones that expired meanwhile', () => {
		const path = join(dir, 'sub', 'confsrv.sqlite');
		const clock = new ManualClock();
		clock.advance(1_700_000_000_000);
		const now = (): number => clock.now();
		let db = openStore(path, { realm: REALM, now });
		const f = fixture({ clock, store: new RepositoryRegistrationStore(db.registrations) });
		register(f, { contacts: ['<sip:2001@a>;expires=120', '<sip:2001@b>;expires=3600;q=0.7'], source: { transport: 'tcp', address: '198.51.100.4', port: 51000, connectionId: 3 } });
		register(f, { aor: '2002', contacts: ['<sip:2002@c>'], expires: 600 });
		f.registrar.close();
		db.close();

		clock.advance(300_000);
		db = openStore(path, { realm: REALM, now });
		const g = fixture({ clock, store: new RepositoryRegistrationStore(db.registrations) });
		assert.deepEqual(
			g.registrar.lookup('2001').map((b) => [b.contact, b.q]),
			[['sip:2001@b', 0.7]],
		);
		assert.deepEqual(g.registrar.lookup('2001')[0]?.source, { transport: 'tcp', address: '198.51.100.4', port: 51000 }, 'no connection id after a restart');
		assert.equal(g.registrar.lookup('2002').length, 1);
		assert.deepEqual(contactsOf(register(g, {})), [{ uri: 'sip:2001@b', expires: 3300, q: '0.7' }]);
		// The expired binding is gone from the database too.
		assert.deepEqual(
			db.registrations
				.list(new Date(0))
				.map((r) => r.contact)
				.sort(),
			['sip:2001@b', 'sip:2002@c'],
		);
		// Expiry keeps running after a reload, and reaches the database.
		clock.advance(600_000);
		assert.equal(g.registrar.lookup('2002').length, 0);
		assert.deepEqual(
			db.registrations.list(new Date(0)).map((r) => r.contact),
			['sip:2001@b'],
		);
		// Un-registering reaches it as well.
		register(g, { contacts: ['*'], expires: 0, callId: 'wipe' });
		assert.deepEqual(db.registrations.list(new Date(0)), []);
		g.registrar.close();
		db.close();
	});

	it('drops stored bindings of users no longer configured', () => {
		const db = openStore(':memory:', { realm: REALM });
		const binding = { aor: '2999', contact: 'sip:2999@x', expiresAt: new Date(Date.now() + 600_000), callId: 'c', cseq: 1, source: { transport: 'udp' as const, address: '1.2.3.4', port: 5060 } };
		db.registrations.upsert(binding);
		db.registrations.upsert({ ...binding, aor: '2001', contact: 'sip:2001@x' });
		const clock = new ManualClock();
		clock.advance(Date.now());
		const f = fixture({ clock, store: new RepositoryRegistrationStore(db.registrations) });
		assert.equal(f.registrar.size, 1);
		assert.equal(f.registrar.lookup('2001')[0]?.contact, 'sip:2001@x');
		assert.deepEqual(
			db.registrations.list(new Date(0)).map((r) => r.aor),
			['2001'],
		);
		f.registrar.close();
		db.close();
	});

	it('keeps serving from memory when the database fails', () => {
		const db = openStore(':memory:', { realm: REALM });
		const f = fixture({ store: new RepositoryRegistrationStore(db.registrations) });
		db.close();
		assert.equal(register(f, { contacts: ['<sip:2001@a>'], expires: 600 }).status, 200);
		assert.equal(f.registrar.lookup('2001').length, 1);
		f.registrar.close();
	});
});
