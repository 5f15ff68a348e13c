/**
 * The registrar (RFC 3261 §10.3): REGISTER with digest authentication,
 * bindings per address-of-record (one AOR per configured user extension),
 * several contacts each with its own expiry, un-registration (Expires: 0,
 * `Contact: *`), 423 Interval Too Brief, Call-ID/CSeq ordering, one sweep
 * timer, and a store so bindings survive a restart.
 *
 * NAT (RFC 3581): a binding remembers where its REGISTER really came from
 * (transport, address, port and, on TCP, the connection). lookup() hands that
 * back as the reach address: a phone behind NAT registers a private Contact,
 * and requests for it go to its public address and port.
 *
 *   REGISTER ──► auth (401/403/400) ──► AOR = To user ──► Contact: * | contacts
 *                   │                                      │ expires: param > header > default
 *                   │                                      │ 0 < expires < min → 423 + Min-Expires
 *                   │                                      │ same Call-ID and CSeq not higher → 500
 *                   ▼                                      ▼
 *             200 OK listing every live contact with its remaining ;expires
 */
import { TypedEmitter } from '../common/events.js';
import { childLogger, type Logger } from '../common/logger.js';
import { realClock, type Clock, type TimerHandle } from '../common/time.js';
import { parseCSeq, parseNameAddr, splitHeaderList, type NameAddr, type SipAddress, type SipRequest, type SipUri } from '../sip/message/index.js';
import { responseDestination } from '../sip/transport/index.js';
import type { RegistrationRepository } from '../store/index.js';
import type { RequestAuthenticator, User } from './users.js';

/** One contact registered for an address-of-record. */
export interface Binding {
	/** The address-of-record: the user's extension. */
	readonly aor: string;
	/** The Contact URI as registered (without angle brackets). */
	readonly contact: string;
	/** Milliseconds on the registrar's clock (wall time in production). */
	readonly expiresAt: number;
	readonly registeredAt: number;
	/** Contact preference 0-1 (the q parameter), when given. */
	readonly q?: number;
	/** Call-ID and CSeq of the REGISTER that last wrote the binding (§10.3 step 7). */
	readonly callId: string;
	readonly cseq: number;
	/**
	 * Where the REGISTER came from: the address to reach this contact at
	 * (behind NAT the Contact's own host is not reachable). On TCP it names
	 * the connection, which is gone after a restart or a disconnect; sending
	 * then falls back to the address.
	 */
	readonly source: SipAddress;
	readonly userAgent?: string;
}

/**
 * Where bindings are kept across restarts. Writes may be buffered until
 * flush(), which the registrar calls once per REGISTER, per sweep and on close.
 * Failures are the store's to log: the registrar carries on in memory.
 */
export interface RegistrationStore {
	/** Inserts or replaces the binding of (aor, contact). */
	save(b: Binding): void;
	remove(aor: string, contact: string): void;
	list(): Binding[];
	flush?(): void;
}

function storeKey(aor: string, contact: string): string {
	return `${aor}\n${contact}`;
}

/** Keeps nothing across restarts. */
export class MemoryRegistrationStore implements RegistrationStore {
	readonly #map = new Map<string, Binding>();

	save(b: Binding): void {
		this.#map.set(storeKey(b.aor, b.contact), b);
	}

	remove(aor: string, contact: string): void {
		this.#map.delete(storeKey(aor, contact));
	}

	list(): Binding[] {
		return [...this.#map.values()];
	}
}

/**
 * Bindings in the embedded database (store/'s RegistrationRepository, SQLite):
 * each write is committed before the REGISTER is answered, so a binding the
 * phone was told about survives a crash or restart. The connection id of a
 * TCP source and the User-Agent are not kept; the registration time comes
 * back as the row's last update.
 */
export class RepositoryRegistrationStore implements RegistrationStore {
	readonly #repo: RegistrationRepository;
	readonly #log: Logger;

	constructor(repo: RegistrationRepository, log?: Logger) {
		this.#repo = repo;
		this.#log = log ?? childLogger({ mod: 'registrar' });
	}

	save(b: Binding): void {
		try {
			this.#repo.upsert({
				aor: b.aor,
				contact: b.contact,
				source: { address: b.source.address, port: b.source.port, transport: b.source.transport },
				expiresAt: new Date(b.expiresAt),
				callId: b.callId,
				cseq: b.cseq,
				q: b.q ?? null,
			});
		} catch (error) {
			// The binding still works until a restart; losing it then is better than refusing the phone now.
			this.#log.error({ err: error, aor: b.aor, contact: b.contact }, 'cannot store registration');
		}
	}

	remove(aor: string, contact: string): void {
		try {
			this.#repo.delete(aor, contact);
		} catch (error) {
			this.#log.error({ err: error, aor, contact }, 'cannot delete stored registration');
		}
	}

	/** Every stored binding, expired ones too (the registrar drops those on load). */
	list(): Binding[] {
		return this.#repo.list(new Date(0)).map((r) => ({
			aor: r.aor,
			contact: r.contact,
			expiresAt: r.expiresAt.getTime(),
			registeredAt: r.updatedAt.getTime(),
			callId: r.callId,
			cseq: r.cseq,
			source: { transport: r.source.transport, address: r.source.address, port: r.source.port },
			...(r.q !== null ? { q: r.q } : {}),
		}));
	}
}

// ---------------------------------------------------------------------------

export interface RegistrarOptions {
	auth: RequestAuthenticator;
	/** Seconds; a non-zero expiry below it gets 423 Interval Too Brief. */
	minExpires: number;
	/** Seconds; longer expiries are shortened to it. */
	maxExpires: number;
	/** Seconds, for contacts with neither an expires parameter nor an Expires header. */
	defaultExpires: number;
	/** Default: memory only. */
	store?: RegistrationStore;
	/** Must be wall time when the store persists (expiry instants are stored). Default Date.now. */
	clock?: Clock;
	/** Contacts one AOR may hold; more gets 403. Default 10. */
	maxContactsPerAor?: number;
	log?: Logger;
}

export type RegistrarEvents = {
	/** A binding was added or refreshed. */
	registered: [Binding];
	/** A binding went away: un-registered, expired, or dropped at load. */
	unregistered: [Binding, reason: 'removed' | 'expired'];
};

/** What to answer a REGISTER with; the UA adds To tag and Server. */
export interface RegisterReply {
	status: number;
	reason?: string;
	headers: Array<[string, string]>;
}

const wallClock: Clock = { now: () => Date.now(), setTimeout: realClock.setTimeout };

/** setTimeout's longest delay; longer ones would fire at once. */
const MAX_TIMER_MS = 0x7fffffff;

interface ContactUpdate {
	uri: string;
	key: string;
	expires: number;
	q?: number;
}

export class Registrar extends TypedEmitter<RegistrarEvents> {
	readonly #auth: RequestAuthenticator;
	readonly #opts: RegistrarOptions;
	readonly #store: RegistrationStore;
	readonly #clock: Clock;
	readonly #log: Logger;
	readonly #maxContacts: number;
	/** AOR → contact key → binding. */
	readonly #bindings = new Map<string, Map<string, Binding>>();
	#sweepTimer: TimerHandle | undefined;
	#sweepAt = Infinity;
	#closed = false;

	constructor(opts: RegistrarOptions) {
		super();
		if (!(opts.minExpires >= 1 && opts.minExpires <= opts.maxExpires && opts.defaultExpires >= opts.minExpires && opts.defaultExpires <= opts.maxExpires)) {
			throw new RangeError('registrar expiries must satisfy 1 <= minExpires <= defaultExpires <= maxExpires');
		}
		this.#auth = opts.auth;
		this.#opts = opts;
		this.#store = opts.store ?? new MemoryRegistrationStore();
		this.#clock = opts.clock ?? wallClock;
		this.#log = opts.log ?? childLogger({ mod: 'registrar' });
		this.#maxContacts = opts.maxContactsPerAor ?? 10;
		this.#restore();
	}

	/** Live bindings in all AORs. */
	get size(): number {
		let n = 0;
		for (const m of this.#bindings.values()) {
			n += m.size;
		}
		return n;
	}

	/**
	 * The live contacts of a user, most preferred first (q, then the most
	 * recently registered). Reach each at its `source`.
	 */
	lookup(extension: string): Binding[] {
		const now = this.#clock.now();
		const m = this.#bindings.get(extension);
		if (!m) {
			return [];
		}
		return [...m.values()].filter((b) => b.expiresAt > now).sort((a, b) => (b.q ?? 1) - (a.q ?? 1) || b.registeredAt - a.registeredAt);
	}

	/** Every live binding. */
	list(): Binding[] {
		const now = this.#clock.now();
		const out: Binding[] = [];
		for (const m of this.#bindings.values()) {
			for (const b of m.values()) {
				if (b.expiresAt > now) {
					out.push(b);
				}
			}
		}
		return out;
	}

	/** Answers one REGISTER (never throws on bad input). */
	handleRegister(req: SipRequest): RegisterReply {
		if (this.#closed) {
			return { status: 503, headers: [] };
		}
		let aor: string | undefined;
		try {
			aor = parseNameAddr(req.headers.get('to') ?? '').uri.user;
		} catch {
			return { status: 400, reason: 'Bad Request (malformed To)', headers: [] };
		}
		// Credentials first, so a stranger learns nothing about which users exist.
		const auth = this.#auth.authenticate(req, 'www', aor ?? '');
		if (!auth.ok) {
			return auth.reject;
		}
		return this.#update(req, auth.user);
	}

	/** Stops the sweep timer and flushes the store. Bindings are kept in the store. */
	close(): void {
		if (this.#closed) {
			return;
		}
		this.#closed = true;
		this.#sweepTimer?.cancel();
		this.#sweepTimer = undefined;
		this.#store.flush?.();
	}

	#update(req: SipRequest, user: User): RegisterReply {
		const aor = user.extension;
		const callId = req.headers.get('call-id') ?? '';
		let cseq: number;
		try {
			cseq = parseCSeq(req.headers.get('cseq') ?? '').seq;
		} catch {
			return { status: 400, reason: 'Bad Request (malformed CSeq)', headers: [] };
		}
		const items: string[] = [];
		for (const v of req.headers.getAll('contact')) {
			items.push(...splitHeaderList(v));
		}
		const headerExpires = parseDelta(req.headers.get('expires'));
		const now = this.#clock.now();
		const current = this.#bindings.get(aor) ?? new Map<string, Binding>();

		// §10.3 step 6: Contact: * removes every binding, but only with Expires: 0.
		if (items.some((i) => i === '*')) {
			if (items.length !== 1 || headerExpires !== 0) {
				return { status: 400, reason: 'Bad Request (Contact: * needs Expires: 0 and no other contact)', headers: [] };
			}
			for (const b of current.values()) {
				if (b.callId === callId && cseq <= b.cseq) {
					return outOfOrder();
				}
			}
			for (const b of [...current.values()]) {
				this.#remove(b, 'removed');
			}
			this.#store.flush?.();
			this.#armSweep();
			return this.#ok(aor);
		}

		// Parse and check every contact before changing anything (all or nothing).
		const updates = new Map<string, ContactUpdate>();
		for (const item of items) {
			let na: NameAddr;
			try {
				na = parseNameAddr(item);
				parseContactUri(na.uriText);
			} catch {
				return { status: 400, reason: 'Bad Request (malformed Contact)', headers: [] };
			}
			const param = na.params['expires'];
			let expires = param !== undefined ? parseDelta(param ?? '') : undefined;
			expires ??= headerExpires ?? this.#opts.defaultExpires;
			if (expires > 0 && expires < this.#opts.minExpires) {
				return { status: 423, reason: 'Interval Too Brief', headers: [['min-expires', String(this.#opts.minExpires)]] };
			}
			expires = Math.min(expires, this.#opts.maxExpires);
			const q = parseQ(na.params['q']);
			const key = contactKey(na.uri);
			updates.set(key, { uri: na.uriText, key, expires, ...(q !== undefined ? { q } : {}) });
		}
		let count = current.size;
		for (const u of updates.values()) {
			const existing = current.get(u.key);
			if (existing && existing.callId === callId && cseq <= existing.cseq) {
				return outOfOrder();
			}
			if (!existing && u.expires > 0) {
				count++;
			} else if (existing && u.expires === 0) {
				count--;
			}
		}
		if (count > this.#maxContacts) {
			return { status: 403, reason: `Forbidden (at most ${this.#maxContacts} contacts per user)`, headers: [] };
		}

		const source = req.source ?? responseDestination(req);
		const userAgent = req.headers.get('user-agent');
		for (const u of updates.values()) {
			const existing = current.get(u.key);
			if (u.expires === 0) {
				if (existing) {
					this.#remove(existing, 'removed');
				}
				continue;
			}
			if (existing && existing.contact !== u.uri) {
				this.#store.remove(aor, existing.contact);
			}
			const b: Binding = {
				aor,
				contact: u.uri,
				expiresAt: now + u.expires * 1000,
				registeredAt: existing?.registeredAt ?? now,
				callId,
				cseq,
				source: { ...source },
				...(u.q !== undefined ? { q: u.q } : {}),
				...(userAgent !== undefined ? { userAgent } : {}),
			};
			current.set(u.key, b);
			this.#bindings.set(aor, current);
			this.#store.save(b);
			this.#log.info({ aor, contact: b.contact, expires: u.expires, source: `${source.transport}:${source.address}:${source.port}` }, existing ? 'registration refreshed' : 'registered');
			this.safeEmit('registered', b);
		}
		this.#store.flush?.();
		this.#armSweep();
		return this.#ok(aor);
	}

	/** 200 OK listing every live contact with its remaining time (§10.3 step 8). */
	#ok(aor: string): RegisterReply {
		const now = this.#clock.now();
		const headers: Array<[string, string]> = [];
		for (const b of this.lookup(aor)) {
			const left = Math.max(1, Math.ceil((b.expiresAt - now) / 1000));
			headers.push(['contact', `<${b.contact}>;expires=${left}${b.q !== undefined ? `;q=${formatQ(b.q)}` : ''}`]);
		}
		headers.push(['date', new Date().toUTCString()]);
		return { status: 200, reason: 'OK', headers };
	}

	#remove(b: Binding, reason: 'removed' | 'expired'): void {
		const m = this.#bindings.get(b.aor);
		if (!m) {
			return;
		}
		for (const [key, x] of m) {
			if (x === b) {
				m.delete(key);
				break;
			}
		}
		if (m.size === 0) {
			this.#bindings.delete(b.aor);
		}
		this.#store.remove(b.aor, b.contact);
		this.#log.info({ aor: b.aor, contact: b.contact, reason }, 'unregistered');
		this.safeEmit('unregistered', b, reason);
	}

	/** Loads the store: drops expired bindings and those of users no longer configured. */
	#restore(): void {
		const now = this.#clock.now();
		let restored = 0;
		let dropped = 0;
		for (const b of this.#store.list()) {
			let key: string;
			try {
				key = contactKey(parseContactUri(b.contact));
			} catch {
				key = '';
			}
			if (b.expiresAt <= now || !this.#auth.users.has(b.aor) || key === '') {
				this.#store.remove(b.aor, b.contact);
				dropped++;
				continue;
			}
			let m = this.#bindings.get(b.aor);
			if (!m) {
				m = new Map();
				this.#bindings.set(b.aor, m);
			}
			m.set(key, b);
			restored++;
		}
		if (dropped > 0) {
			this.#store.flush?.();
		}
		if (restored > 0 || dropped > 0) {
			this.#log.info({ restored, dropped }, 'registrations loaded');
		}
		this.#armSweep();
	}

	/** One timer for the whole registrar, due at the earliest expiry. */
	#armSweep(): void {
		if (this.#closed) {
			return;
		}
		let earliest = Infinity;
		for (const m of this.#bindings.values()) {
			for (const b of m.values()) {
				if (b.expiresAt < earliest) {
					earliest = b.expiresAt;
				}
			}
		}
		if (earliest === this.#sweepAt && this.#sweepTimer) {
			return;
		}
		this.#sweepTimer?.cancel();
		this.#sweepTimer = undefined;
		this.#sweepAt = earliest;
		if (earliest === Infinity) {
			return;
		}
		const delay = Math.min(MAX_TIMER_MS, Math.max(0, earliest - this.#clock.now()));
		this.#sweepTimer = this.#clock.setTimeout(() => {
			this.#sweepTimer = undefined;
			this.#sweepAt = Infinity;
			this.#sweep();
		}, delay);
	}

	#sweep(): void {
		const now = this.#clock.now();
		let removed = 0;
		for (const m of [...this.#bindings.values()]) {
			for (const b of [...m.values()]) {
				if (b.expiresAt <= now) {
					this.#remove(b, 'expired');
					removed++;
				}
			}
		}
		if (removed > 0) {
			this.#store.flush?.();
		}
		this.#armSweep();
	}
}

function outOfOrder(): RegisterReply {
	// §10.3 step 7: "the update MUST be aborted and the request fails".
	return { status: 500, reason: 'Server Internal Error (REGISTER out of order: CSeq not higher)', headers: [] };
}

/** delta-seconds (§25.1); values above 2^32-1 count as 2^32-1 (§20.19). Malformed: undefined. */
function parseDelta(v: string | undefined): number | undefined {
	if (v === undefined) {
		return undefined;
	}
	const t = v.trim();
	if (!/^\d+$/.test(t)) {
		return undefined;
	}
	return Math.min(Number(t), 0xffffffff);
}

/** qvalue (§25.1): "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")]. Anything else is ignored. */
function parseQ(v: string | null | undefined): number | undefined {
	if (v === undefined || v === null || !/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(v.trim())) {
		return undefined;
	}
	return Number(v.trim());
}

function formatQ(q: number): string {
	return String(Math.round(q * 1000) / 1000);
}

function parseContactUri(text: string): SipUri {
	const na = parseNameAddr(`<${text}>`);
	if (na.uri.scheme === 'tel' || na.uri.host === '') {
		throw new TypeError('contact must be a sip or sips URI');
	}
	return na.uri;
}

/**
 * A comparison key for contact URIs, close to §19.1.4: scheme and user
 * exactly, host case-insensitively, the port as written, parameters by name
 * in any order (values case-insensitive), URI headers ignored.
 */
function contactKey(uri: SipUri): string {
	const params = Object.keys(uri.params)
		.sort()
		.map((k) => {
			const v = uri.params[k];
			return v === null || v === undefined ? k : `${k}=${v.toLowerCase()}`;
		})
		.join(';');
	return `${uri.scheme}:${uri.user ?? ''}@${uri.host.toLowerCase()}:${uri.port ?? ''};${params}`;
}

