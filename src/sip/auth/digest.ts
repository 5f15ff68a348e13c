/**
 * SIP digest authentication: RFC 3261 §22 with the algorithms of RFC 7616 as
 * RFC 8760 brings them to SIP. Pure functions and one stateful verifier; no
 * I/O, so the transaction layer decides when to send 401/407.
 *
 *   server: authenticator.challenge()  → WWW-Authenticate values (401)
 *           authenticator.verify(...)  → ok | reason (re-challenge on 'stale')
 *   client: selectChallenge(values) → buildAuthorization(...) → Authorization
 *
 * The same values serve Proxy-Authenticate / Proxy-Authorization (407).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

import { SipParseError, UnsupportedError } from '../../common/errors.js';
import { realClock, type Clock } from '../../common/time.js';

export type DigestHash = 'MD5' | 'SHA-256' | 'SHA-512-256';
/** The -sess variants hash nonce and cnonce into HA1 (RFC 7616 §3.4.2). */
export type DigestAlgorithm = DigestHash | 'MD5-sess' | 'SHA-256-sess' | 'SHA-512-256-sess';
/** What our server challenges with and a user store keeps HA1 for. */
export type ServerAlgorithm = 'MD5' | 'SHA-256';
export type Qop = 'auth' | 'auth-int';

export interface AuthHeader {
	/** As written (compare case-insensitively). */
	scheme: string;
	/** Parameter names lower-cased, values unquoted and unescaped. */
	params: Record<string, string>;
}

const ALGORITHMS: readonly DigestAlgorithm[] = [
	'MD5',
	'SHA-256',
	'SHA-512-256',
	'MD5-sess',
	'SHA-256-sess',
	'SHA-512-256-sess',
];

const NODE_HASH: Record<DigestHash, string> = {
	'MD5': 'md5',
	'SHA-256': 'sha256',
	'SHA-512-256': 'sha512-256',
};

/** Canonical algorithm for a parameter value; absent means MD5 (RFC 2617 §3.2.1). */
export function parseAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
	if (value === undefined) {
		return 'MD5';
	}
	const upper = value.toUpperCase();
	for (const a of ALGORITHMS) {
		if (a.toUpperCase() === upper) {
			return a;
		}
	}
	return undefined;
}

// ---------------------------------------------------------------------------
// Header grammar (RFC 3261 §25.1 challenge/credentials, RFC 7235 auth-param)

/** tchar (RFC 7230 §3.2.6), a superset of the SIP token, for schemes and names. */
const TCHAR = (() => {
	const t = new Uint8Array(128);
	for (let c = 0x30; c <= 0x39; c++) {
		t[c] = 1;
	}
	for (let c = 0x41; c <= 0x5a; c++) {
		t[c] = 1;
		t[c + 0x20] = 1;
	}
	for (const ch of "!#$%&'*+-.^_`|~") {
		t[ch.charCodeAt(0)] = 1;
	}
	return t;
})();

function isTchar(c: number): boolean {
	return c < 128 && TCHAR[c] === 1;
}

/**
 * Unquoted values: any visible ASCII but the delimiters. Wider than token on
 * purpose, since some phones leave base64 nonces or URIs unquoted.
 */
function isBareValueChar(c: number): boolean {
	return c > 0x20 && c < 0x7f && c !== 0x22 && c !== 0x2c && c !== 0x5c;
}

function isWs(c: number): boolean {
	// CR/LF too: a folded header may reach us unfolded only partially.
	return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

function skipWs(s: string, i: number): number {
	while (i < s.length && isWs(s.charCodeAt(i))) {
		i++;
	}
	return i;
}

/**
 * Parses a WWW-Authenticate, Authorization, Proxy-Authenticate or
 * Proxy-Authorization value: `scheme 1*SP #(name "=" (token / quoted-string))`.
 * Throws SipParseError on anything malformed, including duplicate parameters
 * (RFC 7616 §3.3: each may appear once), so a caller can answer 400.
 */
export function parseAuthHeader(value: string): AuthHeader {
	const s = value;
	let i = skipWs(s, 0);
	const schemeStart = i;
	while (i < s.length && isTchar(s.charCodeAt(i))) {
		i++;
	}
	if (i === schemeStart) {
		throw new SipParseError('auth header: missing scheme');
	}
	const scheme = s.slice(schemeStart, i);
	if (i < s.length && !isWs(s.charCodeAt(i))) {
		throw new SipParseError(`auth header: unexpected character at ${i}`);
	}
	// A null prototype so a parameter named __proto__ is just a parameter.
	const params = Object.create(null) as Record<string, string>;
	i = skipWs(s, i);
	while (i < s.length) {
		if (s.charCodeAt(i) === 0x2c) {
			// Empty list elements are allowed by the #rule.
			i = skipWs(s, i + 1);
			continue;
		}
		const nameStart = i;
		while (i < s.length && isTchar(s.charCodeAt(i))) {
			i++;
		}
		if (i === nameStart) {
			throw new SipParseError(`auth header: expected a parameter name at ${i}`);
		}
		const name = s.slice(nameStart, i).toLowerCase();
		i = skipWs(s, i);
		if (s.charCodeAt(i) !== 0x3d) {
			throw new SipParseError(`auth header: expected "=" after ${name}`);
		}
		i = skipWs(s, i + 1);
		let v: string;
		if (s.charCodeAt(i) === 0x22) {
			const q = readQuoted(s, i);
			v = q.value;
			i = q.end;
		} else {
			const vs = i;
			while (i < s.length && isBareValueChar(s.charCodeAt(i))) {
				i++;
			}
			if (i === vs) {
				throw new SipParseError(`auth header: empty value for ${name}`);
			}
			v = s.slice(vs, i);
		}
		if (Object.hasOwn(params, name)) {
			throw new SipParseError(`auth header: duplicate parameter ${name}`);
		}
		params[name] = v;
		i = skipWs(s, i);
		if (i < s.length) {
			if (s.charCodeAt(i) !== 0x2c) {
				throw new SipParseError(`auth header: expected "," after ${name}`);
			}
			i = skipWs(s, i + 1);
		}
	}
	return { scheme, params };
}

/** Reads a quoted-string starting at the opening quote; returns the unescaped text. */
function readQuoted(s: string, start: number): { value: string; end: number } {
	let out = '';
	let runStart = start + 1;
	let i = runStart;
	while (i < s.length) {
		const c = s.charCodeAt(i);
		if (c === 0x22) {
			return { value: out + s.slice(runStart, i), end: i + 1 };
		}
		if (c === 0x5c) {
			const next = s.charCodeAt(i + 1);
			// quoted-pair excludes CR and LF (RFC 3261 §25.1).
			if (i + 1 >= s.length || next === 0x0d || next === 0x0a) {
				throw new SipParseError('auth header: bad escape in quoted string');
			}
			out += s.slice(runStart, i) + s[i + 1];
			i += 2;
			runStart = i;
			continue;
		}
		if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
			throw new SipParseError('auth header: control character in quoted string');
		}
		i++;
	}
	throw new SipParseError('auth header: unterminated quoted string');
}

/** quoted-string with escapes; refuses characters that could split the header. */
function quote(v: string): string {
	for (let i = 0; i < v.length; i++) {
		const c = v.charCodeAt(i);
		if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
			throw new TypeError('auth header values must not contain control characters');
		}
	}
	return '"' + v.replace(/[\\"]/g, '\\$&') + '"';
}

export interface ChallengeParams {
	realm: string;
	nonce: string;
	algorithm?: DigestAlgorithm;
	qop?: readonly Qop[];
	opaque?: string;
	stale?: boolean;
	/** Space-separated URIs of the protection space (RFC 3261 §20.44 domain). */
	domain?: string;
}

/** A WWW-Authenticate / Proxy-Authenticate value for one digest challenge. */
export function formatChallenge(c: ChallengeParams): string {
	const parts = [`realm=${quote(c.realm)}`];
	if (c.domain !== undefined) {
		parts.push(`domain=${quote(c.domain)}`);
	}
	parts.push(`nonce=${quote(c.nonce)}`);
	if (c.opaque !== undefined) {
		parts.push(`opaque=${quote(c.opaque)}`);
	}
	if (c.stale === true) {
		parts.push('stale=true');
	}
	if (c.algorithm !== undefined) {
		parts.push(`algorithm=${c.algorithm}`);
	}
	if (c.qop !== undefined && c.qop.length > 0) {
		parts.push(`qop=${quote(c.qop.join(','))}`);
	}
	return 'Digest ' + parts.join(', ');
}

// ---------------------------------------------------------------------------
// Digest computation (RFC 7616 §3.4.1-3.4.3; RFC 2617 §3.2.2 without qop)

function baseHash(algorithm: DigestAlgorithm): DigestHash {
	return (algorithm.endsWith('-sess') ? algorithm.slice(0, -5) : algorithm) as DigestHash;
}

function h(hash: DigestHash, data: string | Uint8Array): string {
	return createHash(NODE_HASH[hash]).update(data).digest('hex');
}

/**
 * HA1 = H(username ":" realm ":" password). For -sess algorithms this is the
 * stored part; computeResponse folds in nonce and cnonce itself.
 */
export function computeHA1(
	algorithm: DigestAlgorithm,
	username: string,
	realm: string,
	password: string,
): string {
	return h(baseHash(algorithm), `${username}:${realm}:${password}`);
}

/** What a user store keeps instead of the password: HA1 for each algorithm we offer. */
export function ha1ForAllAlgorithms(
	username: string,
	realm: string,
	password: string,
): { md5: string; sha256: string } {
	return {
		md5: computeHA1('MD5', username, realm, password),
		sha256: computeHA1('SHA-256', username, realm, password),
	};
}

export interface ResponseParams {
	algorithm: DigestAlgorithm;
	/** The stored HA1 (lower-case hex), H(username:realm:password). */
	ha1: string;
	nonce: string;
	method: string;
	uri: string;
	/** Absent for RFC 2069-style responses. */
	qop?: Qop;
	/** nonce-count exactly as sent on the wire (8 hex digits). */
	nc?: string;
	cnonce?: string;
	/** Message body, for qop=auth-int; absent means empty. */
	body?: Uint8Array | string;
}

/** The request-digest: lower-case hex, the `response` parameter. */
export function computeResponse(p: ResponseParams): string {
	const hash = baseHash(p.algorithm);
	let ha1 = p.ha1;
	if (p.algorithm.endsWith('-sess')) {
		if (p.cnonce === undefined) {
			throw new TypeError(`${p.algorithm} needs a cnonce`);
		}
		ha1 = h(hash, `${ha1}:${p.nonce}:${p.cnonce}`);
	}
	const a2 =
		p.qop === 'auth-int'
			? `${p.method}:${p.uri}:${h(hash, p.body ?? '')}`
			: `${p.method}:${p.uri}`;
	const ha2 = h(hash, a2);
	if (p.qop === undefined) {
		return h(hash, `${ha1}:${p.nonce}:${ha2}`);
	}
	if (p.nc === undefined || p.cnonce === undefined) {
		throw new TypeError('qop needs nc and cnonce');
	}
	return h(hash, `${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`);
}

// ---------------------------------------------------------------------------
// Client side (toward a trunk)

function offeredQops(challenge: AuthHeader): Qop[] | undefined {
	const raw = challenge.params['qop'];
	if (raw === undefined) {
		return undefined;
	}
	const out: Qop[] = [];
	for (const part of raw.split(',')) {
		const q = part.trim().toLowerCase();
		if (q === 'auth' || q === 'auth-int') {
			out.push(q);
		}
	}
	return out;
}

/**
 * The challenge to answer among several WWW-Authenticate (or
 * Proxy-Authenticate) values: RFC 8760 §2.4 has the client take the topmost
 * one whose algorithm it supports. Unparseable or non-digest values are skipped.
 */
export function selectChallenge(values: readonly string[]): string | undefined {
	for (const v of values) {
		let parsed: AuthHeader;
		try {
			parsed = parseAuthHeader(v);
		} catch {
			continue;
		}
		if (parsed.scheme.toLowerCase() !== 'digest') {
			continue;
		}
		if (parseAlgorithm(parsed.params['algorithm']) === undefined) {
			continue;
		}
		const qops = offeredQops(parsed);
		if (qops !== undefined && qops.length === 0) {
			continue;
		}
		return v;
	}
	return undefined;
}

export interface AuthorizationParams {
	/** One WWW-Authenticate / Proxy-Authenticate value (see selectChallenge). */
	challenge: string | AuthHeader;
	username: string;
	password: string;
	method: string;
	/** The Request-URI of the request being authorized (RFC 3261 §22.4). */
	uri: string;
	/** The caller's count of requests sent with this nonce, from 1. */
	nc: number;
	/** Random when absent; tests pin it. */
	cnonce?: string;
	/** For qop=auth-int, which is used only when the server offers no plain auth. */
	body?: Uint8Array | string;
}

/**
 * An Authorization / Proxy-Authorization value answering a challenge.
 * Throws SipParseError for a malformed challenge and UnsupportedError for an
 * unknown scheme, algorithm or qop.
 */
export function buildAuthorization(p: AuthorizationParams): string {
	const ch = typeof p.challenge === 'string' ? parseAuthHeader(p.challenge) : p.challenge;
	if (ch.scheme.toLowerCase() !== 'digest') {
		throw new UnsupportedError(`auth scheme ${ch.scheme}`);
	}
	const realm = ch.params['realm'];
	const nonce = ch.params['nonce'];
	if (realm === undefined || nonce === undefined) {
		throw new SipParseError('digest challenge without realm or nonce');
	}
	const algorithm = parseAlgorithm(ch.params['algorithm']);
	if (algorithm === undefined) {
		throw new UnsupportedError(`digest algorithm ${ch.params['algorithm'] ?? ''}`);
	}
	const qops = offeredQops(ch);
	let qop: Qop | undefined;
	if (qops !== undefined) {
		qop = qops.includes('auth') ? 'auth' : qops.includes('auth-int') ? 'auth-int' : undefined;
		if (qop === undefined) {
			throw new UnsupportedError(`digest qop ${ch.params['qop'] ?? ''}`);
		}
	}
	if (!Number.isInteger(p.nc) || p.nc < 1 || p.nc > 0xffffffff) {
		throw new RangeError('nc must be an integer from 1 to 2^32-1');
	}
	const nc = p.nc.toString(16).padStart(8, '0');
	// A cnonce is needed with qop, and by -sess even in the RFC 2069 form.
	const cnonce =
		qop !== undefined || algorithm.endsWith('-sess')
			? (p.cnonce ?? randomBytes(12).toString('base64url'))
			: undefined;
	const response = computeResponse({
		algorithm,
		ha1: computeHA1(algorithm, p.username, realm, p.password),
		nonce,
		method: p.method,
		uri: p.uri,
		...(qop !== undefined ? { qop, nc } : {}),
		...(cnonce !== undefined ? { cnonce } : {}),
		...(p.body !== undefined ? { body: p.body } : {}),
	});
	const parts = [
		`username=${quote(p.username)}`,
		`realm=${quote(realm)}`,
		`nonce=${quote(nonce)}`,
		`uri=${quote(p.uri)}`,
		`response=${quote(response)}`,
		`algorithm=${algorithm}`,
	];
	if (cnonce !== undefined) {
		parts.push(`cnonce=${quote(cnonce)}`);
	}
	const opaque = ch.params['opaque'];
	if (opaque !== undefined) {
		parts.push(`opaque=${quote(opaque)}`);
	}
	if (qop !== undefined) {
		parts.push(`qop=${qop}`, `nc=${nc}`);
	}
	return 'Digest ' + parts.join(', ');
}

// ---------------------------------------------------------------------------
// Server side

export type VerifyFailure =
	| 'missing'
	| 'malformed'
	| 'unknown-user'
	| 'bad-response'
	| 'stale'
	| 'replay'
	| 'realm'
	| 'algorithm';

export type VerifyResult =
	| { ok: true; username: string; algorithm: ServerAlgorithm }
	| { ok: false; reason: VerifyFailure };

/** Returns the stored HA1 for the user in this realm and algorithm, or undefined. */
export type Ha1Lookup = (
	username: string,
	realm: string,
	algorithm: ServerAlgorithm,
) => string | undefined;

export interface DigestAuthenticatorOptions {
	realm: string;
	/**
	 * Must read wall time when the secret is shared or persisted: nonce
	 * timestamps then stay meaningful across processes. Defaults to Date.now.
	 */
	clock?: Clock;
	/** How long a nonce is accepted; default 5 minutes. */
	nonceTtlMs?: number;
	/** HMAC key for nonces; random per process when absent (restart = all nonces stale). */
	secret?: Buffer;
	/** Offered in this order of preference (RFC 8760 §2.3); default SHA-256, MD5. */
	algorithms?: readonly ServerAlgorithm[];
	/** Cap on nonces whose nonce-count is tracked; default 100 000. */
	maxTrackedNonces?: number;
}

const wallClock: Clock = { now: () => Date.now(), setTimeout: realClock.setTimeout };

// Nonce layout, then base64url: 40 characters with no padding, so each nonce
// has exactly one spelling and the replay map cannot be dodged by re-encoding.
const TS_BYTES = 6; // ms since the epoch fits 48 bits until the year 10889
const RAND_BYTES = 8; // two challenges in one millisecond still differ
const MAC_BYTES = 16;
const NONCE_BYTES = TS_BYTES + RAND_BYTES + MAC_BYTES;
const NONCE_RE = /^[A-Za-z0-9_-]{40}$/;
/** Nodes sharing a secret may disagree on the time by this much. */
const MAX_FUTURE_SKEW_MS = 30_000;

interface SeenNonce {
	issued: number;
	/** Highest nonce-count accepted; Infinity once used without qop. */
	nc: number;
}

/**
 * Issues digest challenges and verifies credentials. Nonces are stateless
 * (timestamp + random + HMAC), so any instance sharing the secret can verify
 * them; only the nonce-count of nonces in use is kept, in a bounded map.
 *
 * Reasons: 'stale' is returned only when the digest is right but the nonce is
 * expired, not ours (a forged or tampered nonce, or one from before a restart)
 * or forgotten: RFC 7616 §3.3 reserves stale=true for a client that evidently
 * knows the password. A tampered nonce with a digest that does not match it
 * is 'bad-response'.
 */
export class DigestAuthenticator {
	readonly realm: string;
	readonly #clock: Clock;
	readonly #ttl: number;
	readonly #secret: Buffer;
	readonly #algorithms: readonly ServerAlgorithm[];
	readonly #opaque: string;
	readonly #max: number;
	/** Insertion-ordered, so the oldest tracked entries come first when evicting. */
	readonly #seen = new Map<string, SeenNonce>();
	/** Nonces issued before we started have no nc history here: treated as stale. */
	readonly #startedAt: number;
	/** Nonces issued at or before this had their history evicted under pressure. */
	#evictedUpTo = -Infinity;
	#lastSweep: number;

	constructor(opts: DigestAuthenticatorOptions) {
		if (opts.secret !== undefined && opts.secret.length === 0) {
			throw new TypeError('digest secret must not be empty');
		}
		const algorithms = opts.algorithms ?? ['SHA-256', 'MD5'];
		if (algorithms.length === 0) {
			throw new TypeError('at least one digest algorithm is needed');
		}
		// Fail at start-up, not on the first 401, when the realm cannot be quoted.
		quote(opts.realm);
		this.realm = opts.realm;
		this.#clock = opts.clock ?? wallClock;
		this.#ttl = opts.nonceTtlMs ?? 300_000;
		this.#secret = opts.secret ?? randomBytes(32);
		this.#algorithms = algorithms;
		this.#max = Math.max(1, opts.maxTrackedNonces ?? 100_000);
		// The opaque carries no state (the nonce does), so clients that drop or
		// mangle it are not refused; it is stable per realm and secret.
		this.#opaque = this.#mac(Buffer.from('opaque:' + this.realm)).toString('base64url');
		// Floored like the nonce timestamps, or a nonce from our first millisecond would look older.
		this.#startedAt = Math.floor(this.#clock.now());
		this.#lastSweep = this.#startedAt;
	}

	/** Nonces whose nonce-count is currently tracked. */
	get trackedNonces(): number {
		return this.#seen.size;
	}

	/**
	 * WWW-Authenticate (or Proxy-Authenticate) values, one per algorithm, most
	 * preferred first, all sharing one fresh nonce.
	 */
	challenge(opts: { stale?: boolean } = {}): string[] {
		const nonce = this.#issueNonce();
		return this.#algorithms.map((algorithm) =>
			formatChallenge({
				realm: this.realm,
				nonce,
				opaque: this.#opaque,
				algorithm,
				qop: ['auth'],
				...(opts.stale === true ? { stale: true } : {}),
			}),
		);
	}

	/**
	 * Checks an Authorization (or Proxy-Authorization) value. Never throws on
	 * bad input. A success consumes the nonce-count, so call it once per
	 * request (retransmissions are absorbed by the transaction layer first).
	 */
	verify(
		method: string,
		authorizationValue: string | undefined,
		lookupHa1: Ha1Lookup,
		body?: Uint8Array | string,
	): VerifyResult {
		if (authorizationValue === undefined) {
			return fail('missing');
		}
		let header: AuthHeader;
		try {
			header = parseAuthHeader(authorizationValue);
		} catch {
			return fail('malformed');
		}
		if (header.scheme.toLowerCase() !== 'digest') {
			return fail('malformed');
		}
		const p = header.params;
		const username = p['username'];
		const realm = p['realm'];
		const nonce = p['nonce'];
		const uri = p['uri'];
		const response = p['response'];
		if (
			username === undefined ||
			realm === undefined ||
			nonce === undefined ||
			uri === undefined ||
			uri === '' ||
			response === undefined
		) {
			return fail('malformed');
		}
		if (realm !== this.realm) {
			return fail('realm');
		}
		const algorithm = parseAlgorithm(p['algorithm']);
		if (algorithm === undefined || !this.#algorithms.includes(algorithm as ServerAlgorithm)) {
			return fail('algorithm');
		}
		const serverAlgorithm = algorithm as ServerAlgorithm;

		let qop: Qop | undefined;
		let nc = 0;
		const rawQop = p['qop'];
		if (rawQop !== undefined) {
			const q = rawQop.toLowerCase();
			if (q !== 'auth' && q !== 'auth-int') {
				return fail('malformed');
			}
			qop = q;
			const rawNc = p['nc'];
			if (rawNc === undefined || p['cnonce'] === undefined || !/^[0-9a-fA-F]{1,8}$/.test(rawNc)) {
				return fail('malformed');
			}
			nc = parseInt(rawNc, 16);
			if (nc === 0) {
				return fail('malformed');
			}
		}

		const ha1 = lookupHa1(username, realm, serverAlgorithm);
		if (ha1 === undefined) {
			return fail('unknown-user');
		}
		const expected = computeResponse({
			algorithm,
			ha1: ha1.toLowerCase(),
			nonce,
			method,
			uri,
			...(qop !== undefined ? { qop, nc: p['nc'] as string, cnonce: p['cnonce'] as string } : {}),
			...(body !== undefined ? { body } : {}),
		});
		if (!equalHex(expected, response.toLowerCase())) {
			return fail('bad-response');
		}

		// The client knows the password; now is the nonce ours, fresh and unused?
		const now = this.#clock.now();
		const issued = this.#openNonce(nonce);
		if (issued === undefined || now - issued > this.#ttl || issued - now > MAX_FUTURE_SKEW_MS) {
			return fail('stale');
		}
		if (now - this.#lastSweep >= this.#ttl) {
			this.#sweep(now);
		}
		const seen = this.#seen.get(nonce);
		if (seen === undefined) {
			if (issued < this.#startedAt || issued <= this.#evictedUpTo) {
				// It may have been used already and we cannot tell: re-challenge.
				return fail('stale');
			}
			this.#track(nonce, { issued, nc: qop === undefined ? Infinity : nc }, now);
		} else {
			// A use without qop counts as nc 0 and is stored as Infinity, so such a
			// nonce is good for one request whichever way it is mixed with qop.
			if (nc <= seen.nc) {
				return fail('replay');
			}
			seen.nc = nc;
		}
		return { ok: true, username, algorithm: serverAlgorithm };
	}

	#mac(data: Buffer): Buffer {
		return createHmac('sha256', this.#secret).update(data).update(this.realm).digest().subarray(0, MAC_BYTES);
	}

	#issueNonce(): string {
		const buf = Buffer.allocUnsafe(NONCE_BYTES);
		buf.writeUIntBE(Math.max(0, Math.floor(this.#clock.now())), 0, TS_BYTES);
		randomBytes(RAND_BYTES).copy(buf, TS_BYTES);
		this.#mac(buf.subarray(0, TS_BYTES + RAND_BYTES)).copy(buf, TS_BYTES + RAND_BYTES);
		return buf.toString('base64url');
	}

	/** The issue time of a nonce we made, or undefined for anything else. */
	#openNonce(nonce: string): number | undefined {
		if (!NONCE_RE.test(nonce)) {
			return undefined;
		}
		const buf = Buffer.from(nonce, 'base64url');
		if (buf.length !== NONCE_BYTES) {
			return undefined;
		}
		const mac = this.#mac(buf.subarray(0, TS_BYTES + RAND_BYTES));
		if (!timingSafeEqual(mac, buf.subarray(TS_BYTES + RAND_BYTES))) {
			return undefined;
		}
		return buf.readUIntBE(0, TS_BYTES);
	}

	#track(nonce: string, entry: SeenNonce, now: number): void {
		if (this.#seen.size >= this.#max) {
			this.#sweep(now);
		}
		// Still full of live nonces: forget the oldest, and remember that we did
		// so a replay of it is refused (as stale) rather than accepted.
		while (this.#seen.size >= this.#max) {
			const first = this.#seen.entries().next();
			if (first.done === true) {
				break;
			}
			const [key, old] = first.value;
			this.#seen.delete(key);
			this.#evictedUpTo = Math.max(this.#evictedUpTo, old.issued);
		}
		this.#seen.set(nonce, entry);
	}

	/** Drops expired nonces; they are refused as stale before the map is consulted. */
	#sweep(now: number): void {
		this.#lastSweep = now;
		for (const [key, e] of this.#seen) {
			if (now - e.issued > this.#ttl) {
				this.#seen.delete(key);
			}
		}
	}
}

function fail(reason: VerifyFailure): { ok: false; reason: VerifyFailure } {
	return { ok: false, reason };
}

/** Constant time for equal lengths; the length of a digest is public anyway. */
function equalHex(a: string, b: string): boolean {
	const ab = Buffer.from(a);
	const bb = Buffer.from(b);
	return ab.length === bb.length && timingSafeEqual(ab, bb);
}
