import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import { SipParseError, UnsupportedError } from '../../../../src/common/errors.js';
import { ManualClock } from '../../../../src/common/time.js';
import {
	buildAuthorization,
	computeHA1,
	computeResponse,
	DigestAuthenticator,
	formatChallenge,
	ha1ForAllAlgorithms,
	parseAuthHeader,
	selectChallenge,
	type Ha1Lookup,
	type ServerAlgorithm,
} from '../../../../src/sip/auth/index.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

// ---------------------------------------------------------------------------
// Known answers from the RFCs

describe('RFC 2617 §3.5 example', () => {
	const challenge =
		'Digest realm="testrealm@host.com", qop="auth,auth-int", ' +
		'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"';

	it('computes the response of the RFC', () => {
		const ha1 = computeHA1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life');
		const response = computeResponse({
			algorithm: 'MD5',
			ha1,
			nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
			method: 'GET',
			uri: '/dir/index.html',
			qop: 'auth',
			nc: '00000001',
			cnonce: '0a4f113b',
		});
		assert.equal(response, '6629fae49393a05397450978507c4ef1');
	});

	it('builds the Authorization of the RFC from its challenge', () => {
		const value = buildAuthorization({
			challenge,
			username: 'Mufasa',
			password: 'Circle Of Life',
			method: 'GET',
			uri: '/dir/index.html',
			nc: 1,
			cnonce: '0a4f113b',
		});
		const { scheme, params } = parseAuthHeader(value);
		assert.equal(scheme, 'Digest');
		assert.deepEqual({ ...params }, {
			username: 'Mufasa',
			realm: 'testrealm@host.com',
			nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
			uri: '/dir/index.html',
			response: '6629fae49393a05397450978507c4ef1',
			algorithm: 'MD5',
			cnonce: '0a4f113b',
			opaque: '5ccc069c403ebaf9f0171e9517f40e41',
			qop: 'auth',
			nc: '00000001',
		});
	});
});

describe('RFC 7616 §3.9.1 examples', () => {
	// Password "Circle of Life" with a lower-case "of" (erratum 4495).
	const nonce = '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v';
	const cnonce = 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';
	const opaque = 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS';
	const challengeFor = (algorithm: string): string =>
		`Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, ` +
		`nonce="${nonce}", opaque="${opaque}"`;
	const cases = [
		{ algorithm: 'MD5', response: '8ca523f5e9506fed4657c9700eebdbec' },
		{ algorithm: 'SHA-256', response: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1' },
	] as const;

	for (const { algorithm, response } of cases) {
		it(`computes the ${algorithm} response`, () => {
			const ha1 = computeHA1(algorithm, 'Mufasa', 'http-auth@example.org', 'Circle of Life');
			assert.equal(
				computeResponse({ algorithm, ha1, nonce, method: 'GET', uri: '/dir/index.html', qop: 'auth', nc: '00000001', cnonce }),
				response,
			);
		});

		it(`answers the ${algorithm} challenge (qop list with a comma inside quotes)`, () => {
			const value = buildAuthorization({
				challenge: challengeFor(algorithm),
				username: 'Mufasa',
				password: 'Circle of Life',
				method: 'GET',
				uri: '/dir/index.html',
				nc: 1,
				cnonce,
			});
			const { params } = parseAuthHeader(value);
			assert.equal(params['response'], response);
			assert.equal(params['algorithm'], algorithm);
			assert.equal(params['qop'], 'auth');
			assert.equal(params['nc'], '00000001');
			assert.equal(params['opaque'], opaque);
		});
	}

	it('the ha1 store helper gives the same HA1 as computeHA1', () => {
		const both = ha1ForAllAlgorithms('Mufasa', 'http-auth@example.org', 'Circle of Life');
		assert.equal(both.md5, computeHA1('MD5', 'Mufasa', 'http-auth@example.org', 'Circle of Life'));
		assert.equal(both.sha256, computeHA1('SHA-256', 'Mufasa', 'http-auth@example.org', 'Circle of Life'));
		assert.equal(both.md5.length, 32);
		assert.equal(both.sha256.length, 64);
	});
});

describe('computeResponse', () => {
	const base = { ha1: md5('u:r:p'), nonce: 'n', method: 'INVITE', uri: 'sip:bob@example.com' } as const;

	it('without qop uses the RFC 2069 form', () => {
		const ha2 = md5('INVITE:sip:bob@example.com');
		assert.equal(computeResponse({ algorithm: 'MD5', ...base }), md5(`${base.ha1}:n:${ha2}`));
	});

	it('auth-int hashes the body into A2, empty when absent', () => {
		const body = 'v=0\r\n';
		const withBody = computeResponse({ algorithm: 'MD5', ...base, qop: 'auth-int', nc: '00000001', cnonce: 'c', body: Buffer.from(body) });
		const ha2 = md5(`INVITE:sip:bob@example.com:${md5(body)}`);
		assert.equal(withBody, md5(`${base.ha1}:n:00000001:c:auth-int:${ha2}`));
		const empty = computeResponse({ algorithm: 'MD5', ...base, qop: 'auth-int', nc: '00000001', cnonce: 'c' });
		assert.equal(empty, md5(`${base.ha1}:n:00000001:c:auth-int:${md5(`INVITE:sip:bob@example.com:${md5('')}`)}`));
		assert.notEqual(withBody, empty);
	});

	it('-sess folds nonce and cnonce into HA1', () => {
		const sessHa1 = md5(`${base.ha1}:n:c`);
		const ha2 = md5('INVITE:sip:bob@example.com');
		assert.equal(
			computeResponse({ algorithm: 'MD5-sess', ...base, qop: 'auth', nc: '00000001', cnonce: 'c' }),
			md5(`${sessHa1}:n:00000001:c:auth:${ha2}`),
		);
		assert.throws(() => computeResponse({ algorithm: 'MD5-sess', ...base }), TypeError);
	});

	it('SHA-512-256 gives a 64-digit digest distinct from SHA-256', () => {
		const a = computeResponse({ algorithm: 'SHA-512-256', ...base, qop: 'auth', nc: '00000001', cnonce: 'c' });
		const b = computeResponse({ algorithm: 'SHA-256', ...base, qop: 'auth', nc: '00000001', cnonce: 'c' });
		assert.match(a, /^[0-9a-f]{64}$/);
		assert.notEqual(a, b);
	});

	it('qop without nc or cnonce is a programming error', () => {
		assert.throws(() => computeResponse({ algorithm: 'MD5', ...base, qop: 'auth' }), TypeError);
	});
});

// ---------------------------------------------------------------------------
// Header grammar

describe('parseAuthHeader', () => {
	it('reads tokens, quoted strings, escapes and commas inside quotes', () => {
		const h = parseAuthHeader(
			'Digest  username="a \\"b\\" \\\\c", REALM="x,y", nc=00000001 ,qop=auth,, uri="sip:a@b;transport=tcp"',
		);
		assert.equal(h.scheme, 'Digest');
		assert.deepEqual({ ...h.params }, {
			username: 'a "b" \\c',
			realm: 'x,y',
			nc: '00000001',
			qop: 'auth',
			uri: 'sip:a@b;transport=tcp',
		});
	});

	it('accepts spaces around "=" and a scheme with no parameters', () => {
		assert.deepEqual({ ...parseAuthHeader('Digest realm = "r" , nonce= n').params }, { realm: 'r', nonce: 'n' });
		assert.deepEqual(parseAuthHeader('Digest'), { scheme: 'Digest', params: Object.create(null) });
	});

	it('keeps __proto__ as an ordinary parameter', () => {
		const h = parseAuthHeader('Digest __proto__="x", realm="r"');
		assert.equal(h.params['__proto__'], 'x');
		assert.equal(Object.getPrototypeOf(h.params), null);
	});

	const bad: Array<[string, string]> = [
		['empty', ''],
		['only spaces', '   '],
		['unterminated quote', 'Digest username="Mufasa, realm="r"'],
		['escape at end', 'Digest username="abc\\'],
		['no "="', 'Digest username'],
		['missing value', 'Digest username=, realm="r"'],
		['two params without comma', 'Digest a=1 b=2'],
		['duplicate parameter', 'Digest realm="a", Realm="b"'],
		['junk after scheme', 'Digest"x"'],
		['bare newline in quotes', 'Digest realm="a\nb"'],
		['no scheme', '=x'],
	];
	for (const [name, value] of bad) {
		it(`throws SipParseError: ${name}`, () => {
			assert.throws(() => parseAuthHeader(value), SipParseError);
		});
	}
});

describe('formatChallenge', () => {
	it('round-trips through the parser, escaping quotes and backslashes', () => {
		const value = formatChallenge({
			realm: 'conf "main" \\ realm',
			nonce: 'abc',
			opaque: 'op',
			algorithm: 'SHA-256',
			qop: ['auth', 'auth-int'],
			stale: true,
		});
		assert.deepEqual({ ...parseAuthHeader(value).params }, {
			realm: 'conf "main" \\ realm',
			nonce: 'abc',
			opaque: 'op',
			stale: 'true',
			algorithm: 'SHA-256',
			qop: 'auth,auth-int',
		});
	});

	it('refuses values that would split the header', () => {
		assert.throws(() => formatChallenge({ realm: 'a\r\nVia: x', nonce: 'n' }), TypeError);
	});
});

// ---------------------------------------------------------------------------
// Client side

describe('selectChallenge and buildAuthorization', () => {
	const ch = (alg: string): string => `Digest realm="r", nonce="n", qop="auth", algorithm=${alg}`;

	it('takes the topmost challenge with a supported algorithm (RFC 8760 §2.4)', () => {
		assert.equal(selectChallenge([ch('AKAv1-MD5'), ch('SHA-512-256'), ch('MD5')]), ch('SHA-512-256'));
		assert.equal(selectChallenge(['Basic realm="r"', 'Digest realm="unterminated', ch('MD5')]), ch('MD5'));
		assert.equal(selectChallenge(['Digest realm="r", nonce="n", qop="weird"', ch('SHA-256')]), ch('SHA-256'));
		assert.equal(selectChallenge([ch('SHA-1')]), undefined);
	});

	it('answers without qop when the challenge has none, and formats nc as 8 hex digits', () => {
		const v = buildAuthorization({
			challenge: 'Digest realm="r", nonce="n"',
			username: 'u',
			password: 'p',
			method: 'REGISTER',
			uri: 'sip:example.com',
			nc: 1,
		});
		const { params } = parseAuthHeader(v);
		assert.equal(params['qop'], undefined);
		assert.equal(params['nc'], undefined);
		assert.equal(params['cnonce'], undefined);
		assert.equal(params['response'], md5(`${md5('u:r:p')}:n:${md5('REGISTER:sip:example.com')}`));
		const withQop = parseAuthHeader(
			buildAuthorization({ challenge: ch('MD5'), username: 'u', password: 'p', method: 'M', uri: 'x', nc: 0x1a2b }),
		).params;
		assert.equal(withQop['nc'], '00001a2b');
		assert.ok((withQop['cnonce'] ?? '').length > 0);
	});

	it('uses auth-int only when it is the sole qop offered', () => {
		const v = buildAuthorization({
			challenge: 'Digest realm="r", nonce="n", qop="auth-int"',
			username: 'u',
			password: 'p',
			method: 'INVITE',
			uri: 'sip:a@b',
			nc: 1,
			cnonce: 'c',
			body: 'body',
		});
		const { params } = parseAuthHeader(v);
		assert.equal(params['qop'], 'auth-int');
		assert.equal(
			params['response'],
			computeResponse({ algorithm: 'MD5', ha1: md5('u:r:p'), nonce: 'n', method: 'INVITE', uri: 'sip:a@b', qop: 'auth-int', nc: '00000001', cnonce: 'c', body: 'body' }),
		);
	});

	it('throws on unsupported or broken challenges', () => {
		const base = { username: 'u', password: 'p', method: 'INVITE', uri: 'sip:a@b', nc: 1 };
		assert.throws(() => buildAuthorization({ ...base, challenge: ch('SHA-1') }), UnsupportedError);
		assert.throws(() => buildAuthorization({ ...base, challenge: 'Basic realm="r"' }), UnsupportedError);
		assert.throws(() => buildAuthorization({ ...base, challenge: 'Digest realm="r", nonce="n", qop="x"' }), UnsupportedError);
		assert.throws(() => buildAuthorization({ ...base, challenge: 'Digest nonce="n"' }), SipParseError);
		assert.throws(() => buildAuthorization({ ...base, challenge: 'Digest realm="r' }), SipParseError);
		assert.throws(() => buildAuthorization({ ...base, challenge: ch('MD5'), nc: 0 }), RangeError);
		assert.throws(() => buildAuthorization({ ...base, challenge: ch('MD5'), username: 'u\r\nX: y' }), TypeError);
	});
});

// ---------------------------------------------------------------------------
// Server side

const REALM = 'conf.example.com';
const USERS: Record<string, string> = { alice: 'wonderland', bob: 's3cret "quoted"' };

interface Fixture {
	clock: ManualClock;
	auth: DigestAuthenticator;
	lookup: Ha1Lookup;
	calls: Array<[string, string, ServerAlgorithm]>;
}

function fixture(opts: { maxTrackedNonces?: number; secret?: Buffer; clock?: ManualClock } = {}): Fixture {
	const clock = opts.clock ?? new ManualClock();
	const auth = new DigestAuthenticator({
		realm: REALM,
		clock,
		...(opts.secret !== undefined ? { secret: opts.secret } : {}),
		...(opts.maxTrackedNonces !== undefined ? { maxTrackedNonces: opts.maxTrackedNonces } : {}),
	});
	const calls: Array<[string, string, ServerAlgorithm]> = [];
	// The store holds HA1s only, one per algorithm.
	const store = new Map(Object.entries(USERS).map(([u, p]) => [u, ha1ForAllAlgorithms(u, REALM, p)] as const));
	const lookup: Ha1Lookup = (username, realm, algorithm) => {
		calls.push([username, realm, algorithm]);
		const e = store.get(username);
		return e === undefined ? undefined : algorithm === 'MD5' ? e.md5 : e.sha256;
	};
	return { clock, auth, lookup, calls };
}

function answer(
	challenge: string,
	o: { username?: string; password?: string; nc?: number; method?: string; uri?: string } = {},
): string {
	const username = o.username ?? 'alice';
	return buildAuthorization({
		challenge,
		username,
		password: o.password ?? USERS[username] ?? 'nope',
		method: o.method ?? 'REGISTER',
		uri: o.uri ?? 'sip:conf.example.com',
		nc: o.nc ?? 1,
	});
}

/** Rewrites one parameter of an Authorization value, keeping the rest as sent. */
function withParam(value: string, name: string, v: string | undefined): string {
	const { params } = parseAuthHeader(value);
	const out: string[] = [];
	for (const [k, old] of Object.entries(params)) {
		const val = k === name ? v : old;
		if (val === undefined) {
			continue;
		}
		out.push(['qop', 'nc', 'algorithm'].includes(k) ? `${k}=${val}` : `${k}="${val}"`);
	}
	if (!(name in params) && v !== undefined) {
		out.push(`${name}="${v}"`);
	}
	return 'Digest ' + out.join(', ');
}

describe('DigestAuthenticator.challenge', () => {
	it('offers SHA-256 first, then MD5, sharing one nonce, with qop=auth and an opaque', () => {
		const { auth } = fixture();
		const values = auth.challenge();
		assert.equal(values.length, 2);
		const [sha, md] = values.map((v) => parseAuthHeader(v));
		assert.ok(sha !== undefined && md !== undefined);
		assert.equal(sha.scheme, 'Digest');
		assert.equal(sha.params['algorithm'], 'SHA-256');
		assert.equal(md.params['algorithm'], 'MD5');
		for (const c of [sha, md]) {
			assert.equal(c.params['realm'], REALM);
			assert.equal(c.params['qop'], 'auth');
			assert.match(c.params['nonce'] ?? '', /^[A-Za-z0-9_-]{40}$/);
			assert.ok((c.params['opaque'] ?? '').length > 0);
			assert.equal(c.params['stale'], undefined);
		}
		assert.equal(sha.params['nonce'], md.params['nonce']);
		assert.notEqual(parseAuthHeader(auth.challenge()[0] ?? '').params['nonce'], sha.params['nonce']);
	});

	it('marks stale=true when asked', () => {
		const { auth } = fixture();
		for (const v of auth.challenge({ stale: true })) {
			assert.equal(parseAuthHeader(v).params['stale'], 'true');
		}
	});

	it('can be limited to SHA-256', () => {
		const auth = new DigestAuthenticator({ realm: REALM, algorithms: ['SHA-256'] });
		assert.equal(auth.challenge().length, 1);
		const v = answer(auth.challenge()[0] ?? '');
		const md5Answer = answer('Digest realm="conf.example.com", nonce="x", qop="auth", algorithm=MD5');
		const lookup: Ha1Lookup = (u, r, a) => (a === 'MD5' ? ha1ForAllAlgorithms(u, r, 'wonderland').md5 : ha1ForAllAlgorithms(u, r, 'wonderland').sha256);
		assert.deepEqual(auth.verify('REGISTER', v, lookup), { ok: true, username: 'alice', algorithm: 'SHA-256' });
		assert.deepEqual(auth.verify('REGISTER', md5Answer, lookup), { ok: false, reason: 'algorithm' });
	});
});

describe('DigestAuthenticator.verify', () => {
	it('accepts a client answer for each offered algorithm and asks the store for that algorithm', () => {
		const { auth, lookup, calls } = fixture();
		const [sha, md] = auth.challenge();
		assert.ok(sha !== undefined && md !== undefined);
		assert.equal(selectChallenge([sha, md]), sha);
		assert.deepEqual(auth.verify('REGISTER', answer(sha), lookup), { ok: true, username: 'alice', algorithm: 'SHA-256' });
		// A fresh challenge for bob: nonce-counts are per nonce, and alice used this one.
		const md2 = auth.challenge()[1] ?? '';
		assert.deepEqual(auth.verify('REGISTER', answer(md2, { username: 'bob' }), lookup), { ok: true, username: 'bob', algorithm: 'MD5' });
		assert.deepEqual(auth.verify('REGISTER', answer(md, { nc: 2 }), lookup), { ok: true, username: 'alice', algorithm: 'MD5' });
		assert.deepEqual(calls, [
			['alice', REALM, 'SHA-256'],
			['bob', REALM, 'MD5'],
			['alice', REALM, 'MD5'],
		]);
	});

	it('the method is part of the digest', () => {
		const { auth, lookup } = fixture();
		const v = answer(auth.challenge()[0] ?? '', { method: 'INVITE' });
		assert.deepEqual(auth.verify('REGISTER', v, lookup), { ok: false, reason: 'bad-response' });
		assert.equal(auth.verify('INVITE', v, lookup).ok, true);
	});

	it('wrong password → bad-response', () => {
		const { auth, lookup } = fixture();
		const v = answer(auth.challenge()[0] ?? '', { password: 'guess' });
		assert.deepEqual(auth.verify('REGISTER', v, lookup), { ok: false, reason: 'bad-response' });
	});

	it('a bad response does not consume the nonce-count', () => {
		const { auth, lookup } = fixture();
		const c = auth.challenge()[0] ?? '';
		assert.equal(auth.verify('REGISTER', answer(c, { password: 'guess' }), lookup).ok, false);
		assert.equal(auth.verify('REGISTER', answer(c), lookup).ok, true);
	});

	it('unknown user', () => {
		const { auth, lookup } = fixture();
		const v = answer(auth.challenge()[0] ?? '', { username: 'mallory', password: 'x' });
		assert.deepEqual(auth.verify('REGISTER', v, lookup), { ok: false, reason: 'unknown-user' });
	});

	it('wrong realm', () => {
		const { auth, lookup } = fixture();
		const c = (auth.challenge()[0] ?? '').replace(`realm="${REALM}"`, 'realm="other.example.com"');
		assert.deepEqual(auth.verify('REGISTER', answer(c), lookup), { ok: false, reason: 'realm' });
	});

	it('unsupported or unoffered algorithm', () => {
		const { auth, lookup } = fixture();
		const good = answer(auth.challenge()[0] ?? '');
		for (const alg of ['SHA-512-256', 'MD5-sess', 'SHA-1']) {
			assert.deepEqual(auth.verify('REGISTER', withParam(good, 'algorithm', alg), lookup), { ok: false, reason: 'algorithm' });
		}
	});

	it('a missing algorithm means MD5', () => {
		const { auth, lookup } = fixture();
		const v = withParam(answer(auth.challenge()[1] ?? ''), 'algorithm', undefined);
		assert.deepEqual(auth.verify('REGISTER', v, lookup), { ok: true, username: 'alice', algorithm: 'MD5' });
	});

	it('tampered nonce: bad-response when the digest was made over the original', () => {
		const { auth, lookup } = fixture();
		const v = answer(auth.challenge()[0] ?? '');
		const nonce = parseAuthHeader(v).params['nonce'] ?? '';
		const flipped = (nonce[0] === 'A' ? 'B' : 'A') + nonce.slice(1);
		assert.deepEqual(auth.verify('REGISTER', withParam(v, 'nonce', flipped), lookup), { ok: false, reason: 'bad-response' });
	});

	it('tampered or foreign nonce with a digest that matches it: stale (the client knows the password)', () => {
		const { auth, lookup } = fixture();
		const c = auth.challenge()[0] ?? '';
		const nonce = parseAuthHeader(c).params['nonce'] ?? '';
		const flipped = (nonce[5] === 'A' ? 'B' : 'A');
		const forged = c.replace(nonce, nonce.slice(0, 5) + flipped + nonce.slice(6));
		assert.deepEqual(auth.verify('REGISTER', answer(forged), lookup), { ok: false, reason: 'stale' });
		// Another instance with its own secret (e.g. before a restart).
		const other = fixture();
		assert.deepEqual(auth.verify('REGISTER', answer(other.auth.challenge()[0] ?? ''), lookup), { ok: false, reason: 'stale' });
		// A nonce we never issued, in no particular format.
		const made = `Digest realm="${REALM}", nonce="12345", qop="auth", algorithm=SHA-256`;
		assert.deepEqual(auth.verify('REGISTER', answer(made), lookup), { ok: false, reason: 'stale' });
	});

	it('expired nonce → stale; fresh challenge works again', () => {
		const { auth, lookup, clock } = fixture();
		const c = auth.challenge()[0] ?? '';
		clock.advance(300_000);
		assert.equal(auth.verify('REGISTER', answer(c, { nc: 1 }), lookup).ok, true, 'valid at exactly the TTL');
		clock.advance(1);
		assert.deepEqual(auth.verify('REGISTER', answer(c, { nc: 2 }), lookup), { ok: false, reason: 'stale' });
		assert.deepEqual(auth.verify('REGISTER', answer(c, { nc: 2, password: 'bad' }), lookup), { ok: false, reason: 'bad-response' });
		assert.equal(auth.verify('REGISTER', answer(auth.challenge({ stale: true })[0] ?? ''), lookup).ok, true);
	});

	it('honours nonceTtlMs', () => {
		const clock = new ManualClock();
		const auth = new DigestAuthenticator({ realm: REALM, clock, nonceTtlMs: 1000 });
		const { lookup } = fixture();
		const c = auth.challenge()[0] ?? '';
		clock.advance(1001);
		assert.deepEqual(auth.verify('REGISTER', answer(c), lookup), { ok: false, reason: 'stale' });
	});

	it('same nc twice → replay; increasing nc ok; lower nc → replay', () => {
		const { auth, lookup } = fixture();
		const c = auth.challenge()[0] ?? '';
		assert.equal(auth.verify('REGISTER', answer(c, { nc: 1 }), lookup).ok, true);
		assert.deepEqual(auth.verify('REGISTER', answer(c, { nc: 1 }), lookup), { ok: false, reason: 'replay' });
		assert.equal(auth.verify('REGISTER', answer(c, { nc: 2 }), lookup).ok, true);
		assert.equal(auth.verify('REGISTER', answer(c, { nc: 5 }), lookup).ok, true);
		assert.deepEqual(auth.verify('REGISTER', answer(c, { nc: 4 }), lookup), { ok: false, reason: 'replay' });
		assert.equal(auth.verify('REGISTER', answer(c, { nc: 6 }), lookup).ok, true);
		assert.equal(auth.trackedNonces, 1);
	});

	it('without qop a nonce is good for one request', () => {
		const { auth, lookup } = fixture();
		const c = (auth.challenge()[0] ?? '').replace(', qop="auth"', '');
		assert.equal(parseAuthHeader(answer(c)).params['qop'], undefined);
		assert.equal(auth.verify('REGISTER', answer(c), lookup).ok, true);
		assert.deepEqual(auth.verify('REGISTER', answer(c), lookup), { ok: false, reason: 'replay' });
		// Nor can the nonce be reused with qop after that.
		assert.deepEqual(auth.verify('REGISTER', answer(c + ', qop="auth"', { nc: 9 }), lookup), { ok: false, reason: 'replay' });
		// And the other way round: a nonce used with qop cannot then be used without.
		const d = auth.challenge()[0] ?? '';
		assert.equal(auth.verify('REGISTER', answer(d), lookup).ok, true);
		assert.deepEqual(auth.verify('REGISTER', answer(d.replace(', qop="auth"', '')), lookup), { ok: false, reason: 'replay' });
	});

	it('auth-int covers the body the caller passes', () => {
		const { auth, lookup } = fixture();
		const c = (auth.challenge()[0] ?? '').replace('qop="auth"', 'qop="auth-int"');
		const body = Buffer.from('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n');
		const v = buildAuthorization({ challenge: c, username: 'alice', password: 'wonderland', method: 'INVITE', uri: 'sip:100@conf', nc: 1, body });
		assert.deepEqual(auth.verify('INVITE', v, lookup, Buffer.from('v=0\r\n')), { ok: false, reason: 'bad-response' });
		assert.equal(auth.verify('INVITE', v, lookup, body).ok, true);
	});

	it('forgets the oldest nonces when full, and refuses them afterwards instead of allowing a replay', () => {
		const { auth, lookup, clock } = fixture({ maxTrackedNonces: 2 });
		const a = auth.challenge()[0] ?? '';
		clock.advance(10);
		const b = auth.challenge()[0] ?? '';
		clock.advance(10);
		const c = auth.challenge()[0] ?? '';
		assert.equal(auth.verify('REGISTER', answer(a), lookup).ok, true);
		assert.equal(auth.verify('REGISTER', answer(b), lookup).ok, true);
		assert.equal(auth.verify('REGISTER', answer(c), lookup).ok, true);
		assert.equal(auth.trackedNonces, 2);
		assert.deepEqual(auth.verify('REGISTER', answer(a, { nc: 1 }), lookup), { ok: false, reason: 'stale' });
		assert.deepEqual(auth.verify('REGISTER', answer(a, { nc: 2 }), lookup), { ok: false, reason: 'stale' });
		assert.equal(auth.verify('REGISTER', answer(b, { nc: 2 }), lookup).ok, true);
	});

	it('sweeps expired nonces out of the replay map', () => {
		const { auth, lookup, clock } = fixture();
		assert.equal(auth.verify('REGISTER', answer(auth.challenge()[0] ?? ''), lookup).ok, true);
		assert.equal(auth.trackedNonces, 1);
		clock.advance(300_001);
		assert.equal(auth.verify('REGISTER', answer(auth.challenge()[0] ?? ''), lookup).ok, true);
		assert.equal(auth.trackedNonces, 1);
	});

	it('with a shared secret, nonces from before this instance started are stale (no replay across restarts)', () => {
		const secret = Buffer.from('0123456789abcdef0123456789abcdef');
		const clock = new ManualClock();
		const before = fixture({ secret, clock });
		const c = before.auth.challenge()[0] ?? '';
		const used = answer(c);
		assert.equal(before.auth.verify('REGISTER', used, before.lookup).ok, true);
		clock.advance(1000);
		const after = fixture({ secret, clock });
		assert.deepEqual(after.auth.verify('REGISTER', used, after.lookup), { ok: false, reason: 'stale' });
		// …while a nonce it issued itself verifies: the secret is what makes nonces valid.
		const peer = fixture({ secret, clock });
		assert.equal(peer.auth.verify('REGISTER', answer(after.auth.challenge()[0] ?? ''), peer.lookup).ok, true);
	});

	it('missing and malformed values never throw', () => {
		const { auth, lookup } = fixture();
		const good = answer(auth.challenge()[0] ?? '');
		assert.deepEqual(auth.verify('REGISTER', undefined, lookup), { ok: false, reason: 'missing' });
		const malformed = [
			'',
			'   ',
			'Digest username="alice, realm="conf.example.com"',
			good.slice(0, good.length - 5),
			'Basic YWxpY2U6d29uZGVybGFuZA==',
			'Digest',
			withParam(good, 'uri', undefined),
			withParam(good, 'uri', ''),
			withParam(good, 'response', undefined),
			withParam(good, 'nonce', undefined),
			withParam(good, 'username', undefined),
			withParam(good, 'realm', undefined),
			withParam(good, 'nc', undefined),
			withParam(good, 'cnonce', undefined),
			withParam(good, 'nc', '00000000'),
			withParam(good, 'nc', 'xyz'),
			withParam(good, 'nc', '123456789'),
			withParam(good, 'qop', 'auth-conf'),
			good + ', realm="again"',
			'Digest \u0000',
		];
		for (const v of malformed) {
			assert.deepEqual(auth.verify('REGISTER', v, lookup), { ok: false, reason: 'malformed' }, JSON.stringify(v));
		}
		// The good one still works after all that.
		assert.equal(auth.verify('REGISTER', good, lookup).ok, true);
	});

	it('a response of the wrong length or case is compared safely', () => {
		const { auth, lookup } = fixture();
		const good = answer(auth.challenge()[0] ?? '');
		const response = parseAuthHeader(good).params['response'] ?? '';
		assert.deepEqual(auth.verify('REGISTER', withParam(good, 'response', response.slice(0, 32)), lookup), { ok: false, reason: 'bad-response' });
		assert.deepEqual(auth.verify('REGISTER', withParam(good, 'response', ''), lookup), { ok: false, reason: 'bad-response' });
		assert.equal(auth.verify('REGISTER', withParam(good, 'response', response.toUpperCase()), lookup).ok, true);
	});

	it('rejects an empty secret and an unquotable realm at construction', () => {
		assert.throws(() => new DigestAuthenticator({ realm: REALM, secret: Buffer.alloc(0) }), TypeError);
		assert.throws(() => new DigestAuthenticator({ realm: 'a\nb' }), TypeError);
		assert.throws(() => new DigestAuthenticator({ realm: REALM, algorithms: [] }), TypeError);
	});
});
