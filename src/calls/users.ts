/**
 * Users (phones that register: extension, display name, HA1 hashes) and the
 * digest checks made on their behalf: 401 for REGISTER, 407 for INVITE
 * (RFC 3261 §22, RFC 8760 algorithms via sip/auth's DigestAuthenticator).
 *
 * Nothing here holds a password: the configuration is resolved to HA1 hashes
 * before a UserDirectory is built from it.
 */
import { childLogger, type Logger } from '../common/logger.js';
import type { Clock } from '../common/time.js';
import type { UserConfig } from '../config/index.js';
import { DigestAuthenticator, ha1ForAllAlgorithms, type Ha1Lookup, type ServerAlgorithm, type VerifyFailure } from '../sip/auth/index.js';
import { parseNameAddr, parseUri, type SipRequest } from '../sip/message/index.js';

export interface User {
	readonly extension: string;
	readonly displayName: string;
	/** H(extension:realm:password), lower-case hex, per algorithm we offer. */
	readonly ha1: { readonly md5: string; readonly sha256: string };
}

/** The configured users, by extension. */
export class UserDirectory {
	readonly realm: string;
	readonly #byExtension = new Map<string, User>();

	/**
	 * From resolved configuration (HA1 only). A user that still carries a
	 * password is hashed here and the password dropped, so a hand-built Config
	 * works too.
	 */
	static fromConfig(users: readonly UserConfig[], realm: string): UserDirectory {
		return new UserDirectory(
			users.map((u) => ({
				extension: u.extension,
				displayName: u.displayName,
				ha1: u.ha1 ?? ha1ForAllAlgorithms(u.extension, realm, u.password ?? ''),
			})),
			realm,
		);
	}

	constructor(users: readonly User[], realm: string) {
		this.realm = realm;
		for (const u of users) {
			if (this.#byExtension.has(u.extension)) {
				throw new TypeError(`user ${u.extension} is defined twice`);
			}
			this.#byExtension.set(u.extension, { extension: u.extension, displayName: u.displayName, ha1: { md5: u.ha1.md5.toLowerCase(), sha256: u.ha1.sha256.toLowerCase() } });
		}
	}

	get size(): number {
		return this.#byExtension.size;
	}

	get(extension: string): User | undefined {
		return this.#byExtension.get(extension);
	}

	has(extension: string): boolean {
		return this.#byExtension.has(extension);
	}

	list(): User[] {
		return [...this.#byExtension.values()];
	}

	/** For DigestAuthenticator.verify: the user's HA1 in our realm, else undefined. */
	readonly ha1Lookup: Ha1Lookup = (username: string, realm: string, algorithm: ServerAlgorithm): string | undefined => {
		if (realm !== this.realm) {
			return undefined;
		}
		const u = this.#byExtension.get(username);
		if (!u) {
			return undefined;
		}
		return algorithm === 'MD5' ? u.ha1.md5 : u.ha1.sha256;
	};
}

/** 'www': REGISTER, 401 + WWW-Authenticate / Authorization. 'proxy': INVITE, 407 + Proxy-Authenticate / Proxy-Authorization. */
export type ChallengeKind = 'www' | 'proxy';

/** A final response to send instead of going on: header lines ready for the response. */
export interface AuthRejection {
	status: number;
	reason?: string;
	headers: Array<[string, string]>;
}

export type RequestAuthResult = { ok: true; user: User } | { ok: false; reject: AuthRejection; failure: VerifyFailure | 'identity' };

const HEADERS = {
	www: { challenge: 'www-authenticate', credentials: 'authorization', status: 401 },
	proxy: { challenge: 'proxy-authenticate', credentials: 'proxy-authorization', status: 407 },
} as const;

export interface RequestAuthenticatorOptions {
	users: UserDirectory;
	/** Wall time (nonces carry a timestamp); default Date.now. */
	clock?: Clock;
	/** How long a nonce is good for; default 5 minutes. */
	nonceTtlMs?: number;
	log?: Logger;
}

/**
 * Digest authentication of one request against the user directory. Turns
 * every outcome of DigestAuthenticator.verify into what to answer:
 *
 *   no credentials, expired/unknown nonce (stale=true), replayed nonce-count,
 *   other realm or algorithm   → 401/407 with fresh challenges (SHA-256, MD5)
 *   unparseable credentials    → 400
 *   unknown user, wrong digest → 403 (after a challenge, so a stranger cannot
 *                                tell which users exist)
 *   user ≠ the identity claimed (the AOR of a REGISTER, the From of an INVITE) → 403
 */
export class RequestAuthenticator {
	readonly users: UserDirectory;
	readonly #digest: DigestAuthenticator;
	readonly #log: Logger;

	constructor(opts: RequestAuthenticatorOptions) {
		this.users = opts.users;
		this.#digest = new DigestAuthenticator({
			realm: opts.users.realm,
			...(opts.clock !== undefined ? { clock: opts.clock } : {}),
			...(opts.nonceTtlMs !== undefined ? { nonceTtlMs: opts.nonceTtlMs } : {}),
		});
		this.#log = opts.log ?? childLogger({ mod: 'auth' });
	}

	get realm(): string {
		return this.users.realm;
	}

	/** The 401/407 with one challenge per algorithm, SHA-256 first (RFC 8760 §2.3). */
	challenge(kind: ChallengeKind, stale = false): AuthRejection {
		const h = HEADERS[kind];
		return {
			status: h.status,
			headers: this.#digest.challenge(stale ? { stale: true } : {}).map((v): [string, string] => [h.challenge, v]),
		};
	}

	/**
	 * Verifies the request's credentials for our realm; `identity` is the user
	 * the request speaks for, which the credentials must belong to.
	 */
	authenticate(req: SipRequest, kind: ChallengeKind, identity: string | undefined): RequestAuthResult {
		const h = HEADERS[kind];
		const value = this.#pickCredentials(req.headers.getAll(h.credentials));
		const result = this.#digest.verify(req.method, value, this.users.ha1Lookup, req.body);
		const source = req.source ? `${req.source.address}:${req.source.port}` : undefined;
		if (result.ok) {
			const user = this.users.get(result.username);
			if (!user || (identity !== undefined && result.username !== identity)) {
				this.#log.info({ method: req.method, username: result.username, identity, source }, 'authenticated user does not match the identity claimed');
				return { ok: false, failure: 'identity', reject: { status: 403, reason: 'Forbidden (credentials do not match the user)', headers: [] } };
			}
			return { ok: true, user };
		}
		switch (result.reason) {
			case 'missing':
			case 'replay':
			case 'realm':
			case 'algorithm': {
				if (result.reason !== 'missing') {
					this.#log.info({ method: req.method, reason: result.reason, source }, 'credentials refused; challenging again');
				}
				return { ok: false, failure: result.reason, reject: this.challenge(kind) };
			}
			case 'stale': {
				return { ok: false, failure: 'stale', reject: this.challenge(kind, true) };
			}
			case 'malformed': {
				return { ok: false, failure: 'malformed', reject: { status: 400, reason: `Bad Request (malformed ${kind === 'www' ? 'Authorization' : 'Proxy-Authorization'})`, headers: [] } };
			}
			case 'unknown-user':
			case 'bad-response': {
				// One log line per failed attempt: what fail2ban-style tools watch.
				this.#log.warn({ method: req.method, reason: result.reason, source, identity }, 'authentication failed');
				return { ok: false, failure: result.reason, reject: { status: 403, reason: 'Forbidden', headers: [] } };
			}
		}
	}

	/** Of several credentials (one per realm, §22.4), the one for our realm, else the first. */
	#pickCredentials(values: string[]): string | undefined {
		if (values.length <= 1) {
			return values[0];
		}
		const realmParam = /realm\s*=\s*"((?:[^"\\]|\\.)*)"/i;
		for (const v of values) {
			const m = realmParam.exec(v);
			if (m && m[1]?.replace(/\\(.)/g, '$1') === this.realm) {
				return v;
			}
		}
		return values[0];
	}
}

/** The user part of a name-addr header's URI (From, To), or undefined. */
export function headerUser(value: string | undefined): string | undefined {
	if (value === undefined) {
		return undefined;
	}
	try {
		return parseNameAddr(value).uri.user;
	} catch {
		return undefined;
	}
}

/** The user part of a Request-URI, or undefined. */
export function requestUriUser(uri: string): string | undefined {
	try {
		return parseUri(uri).user;
	} catch {
		return undefined;
	}
}

export type InviteAuthDecision = { ok: true; user?: User } | { ok: false; reject: AuthRejection };

export interface InviteAuthPolicyOptions {
	auth: RequestAuthenticator;
	/** Whether a Request-URI user is a room number. */
	isRoom: (number: string) => boolean;
	/** See Config sip.authenticateRoomCalls. */
	authenticateRoomCalls: boolean;
}

/**
 * Who must prove their identity before an INVITE goes on (407):
 *
 *   From claims a configured extension      → challenged; the credentials must be that user's
 *   anyone else calling a room              → let in, unless authenticateRoomCalls
 *   anyone else calling anything else       → let through (the dial plan answers it)
 */
export class InviteAuthPolicy {
	readonly #opts: InviteAuthPolicyOptions;

	constructor(opts: InviteAuthPolicyOptions) {
		this.#opts = opts;
	}

	authenticateInvite(req: SipRequest): InviteAuthDecision {
		const { auth, isRoom, authenticateRoomCalls } = this.#opts;
		const fromUser = headerUser(req.headers.get('from'));
		const claimsUser = fromUser !== undefined && auth.users.has(fromUser);
		if (!claimsUser) {
			const target = requestUriUser(req.uri);
			if (!(authenticateRoomCalls && target !== undefined && isRoom(target))) {
				return { ok: true };
			}
		}
		const result = auth.authenticate(req, 'proxy', claimsUser ? fromUser : undefined);
		return result.ok ? { ok: true, user: result.user } : { ok: false, reject: result.reject };
	}
}
