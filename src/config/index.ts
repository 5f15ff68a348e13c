import { readFileSync } from 'node:fs';
import { ConfigError } from '../common/errors.js';
import { ha1ForAllAlgorithms } from '../sip/auth/index.js';
import { defaultTransferConfig, defaultVoicemailConfig, validateTransferConfig, validateVoicemailConfig, type TransferConfig, type VoicemailConfig } from '../transfer/config.js';

/**
 * Server configuration. Every key has an embedded default so `npm start` runs
 * with no file at all; config/default.json documents and overrides them.
 * Unknown keys are rejected so a typo never silently falls back to a default.
 */
export interface RoomConfig {
	/** Human name shown in logs and the API. */
	name: string;
	/** The number callers dial (the Request-URI user part). */
	number: string;
	/** Mix rate in Hz: 8000, 16000 or 48000. */
	sampleRate?: number;
}

/** Stored digest secrets: H(extension:realm:password) per algorithm, lower-case hex. */
export interface UserHa1 {
	md5: string;
	sha256: string;
}

/**
 * A user (a phone that registers). In a config file give `password`; it is
 * hashed to HA1 for `sip.realm` when the configuration is resolved and the
 * cleartext is not kept. A resolved configuration holds `ha1` only, which may
 * also be written in a file directly (it is then tied to that realm).
 */
export interface UserConfig {
	/** The number the user registers as and is called at (the AOR user part). */
	extension: string;
	displayName: string;
	password?: string;
	ha1?: UserHa1;
}

export interface Config {
	sip: {
		/** Address the SIP sockets bind to. 0.0.0.0 listens on every interface. */
		host: string;
		/** UDP and TCP port (0 picks a free one: tests). */
		port: number;
		/** Address written into Contact/Via; defaults to host (or 127.0.0.1 for 0.0.0.0). */
		advertisedAddress?: string;
		udp: boolean;
		tcp: boolean;
		/** RFC 3261 T1 in ms: retransmission base; 64*T1 is the transaction timeout. */
		t1Ms: number;
		userAgent: string;
		/** Digest realm of REGISTER and INVITE challenges; HA1 hashes depend on it. */
		realm: string;
		/**
		 * false: only INVITEs whose From claims a configured user are challenged
		 * (407); callers from outside reach rooms without credentials. true: every
		 * INVITE to a room must authenticate as a configured user.
		 */
		authenticateRoomCalls: boolean;
		/** Token bucket per source IP address over incoming requests; perSecond 0 disables it. */
		rateLimit: { perSecond: number; burst: number };
	};
	registrar: {
		/** Shorter non-zero expirations are refused with 423 Interval Too Brief (RFC 3261 §10.3). */
		minExpires: number;
		/** Longer ones are shortened to this. */
		maxExpires: number;
		/** For a contact with neither an expires parameter nor an Expires header. */
		defaultExpires: number;
	};
	/**
	 * Directory for persistent state: the embedded database confsrv.sqlite
	 * (registrations so far). Relative paths are resolved from the working
	 * directory. Absent: registrations are kept in memory only and do not
	 * survive a restart.
	 */
	dataDir?: string;
	/** Operations HTTP endpoint: /metrics (Prometheus), /health, /ready. */
	http: {
		enabled: boolean;
		host: string;
		port: number;
	};
	users: UserConfig[];
	rtp: {
		/** Address RTP sockets bind to. */
		host: string;
		/** Address written into SDP c= lines; defaults to sip.advertisedAddress. */
		advertisedAddress?: string;
		portMin: number;
		portMax: number;
		/** A call whose RTP stops for this long is hung up with BYE. 0 disables. */
		timeoutSec: number;
	};
	mixer: {
		/** Mixer worker threads (rooms are sharded across them). */
		workers: number;
		/** Default mix rate of rooms that do not set one. */
		sampleRate: number;
	};
	rooms: RoomConfig[];
	/** Call transfer by keypad and its failure policies (src/transfer/config.ts documents each key). */
	transfer: TransferConfig;
	/** Voicemail messages left by clients whose transfer failed. */
	voicemail: VoicemailConfig;
}

export type DeepPartial<T> = {
	[K in keyof T]?: T[K] extends Array<infer U> ? U[] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};

export const defaultConfig: Config = {
	sip: {
		host: '127.0.0.1',
		port: 5060,
		udp: true,
		tcp: true,
		t1Ms: 500,
		userAgent: 'confsrv',
		realm: 'confsrv',
		authenticateRoomCalls: false,
		rateLimit: { perSecond: 200, burst: 400 },
	},
	http: {
		enabled: false,
		host: '127.0.0.1',
		port: 8080,
	},
	registrar: {
		minExpires: 60,
		maxExpires: 3600,
		defaultExpires: 3600,
	},
	users: [],
	rtp: {
		host: '127.0.0.1',
		portMin: 30000,
		portMax: 39999,
		timeoutSec: 30,
	},
	mixer: {
		workers: 1,
		sampleRate: 8000,
	},
	rooms: [{ name: 'Demo room', number: '1000' }],
	transfer: defaultTransferConfig(),
	voicemail: defaultVoicemailConfig(),
};

const SAMPLE_RATES = new Set([8000, 16000, 48000]);

function isObject(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Overlays `patch` on `base`, rejecting keys `base` does not have. */
function merge(base: Record<string, unknown>, patch: Record<string, unknown>, path: string, optional: Set<string>): Record<string, unknown> {
	const out: Record<string, unknown> = { ...base };
	for (const [key, value] of Object.entries(patch)) {
		const keyPath = path ? `${path}.${key}` : key;
		if (!(key in base) && !optional.has(keyPath)) {
			throw new ConfigError(`unknown config key "${keyPath}"`);
		}
		const current = base[key];
		if (isObject(current) && isObject(value)) {
			out[key] = merge(current, value, keyPath, optional);
		} else if (value !== undefined) {
			out[key] = value;
		}
	}
	return out;
}

const OPTIONAL_KEYS = new Set(['sip.advertisedAddress', 'rtp.advertisedAddress', 'dataDir']);

function need(cond: boolean, message: string): void {
	if (!cond) {
		throw new ConfigError(message);
	}
}

function isPort(v: unknown, allowZero: boolean): boolean {
	return Number.isInteger(v) && (v as number) >= (allowZero ? 0 : 1) && (v as number) <= 65535;
}

/** Validates a merged configuration; throws ConfigError naming the key. */
export function validateConfig(c: Config): Config {
	need(typeof c.sip.host === 'string' && c.sip.host.length > 0, 'sip.host must be a non-empty string');
	need(isPort(c.sip.port, true), 'sip.port must be an integer 0-65535');
	need(typeof c.sip.udp === 'boolean' && typeof c.sip.tcp === 'boolean', 'sip.udp and sip.tcp must be booleans');
	need(c.sip.udp || c.sip.tcp, 'at least one of sip.udp and sip.tcp must be enabled');
	need(Number.isFinite(c.sip.t1Ms) && c.sip.t1Ms >= 10 && c.sip.t1Ms <= 10_000, 'sip.t1Ms must be 10-10000');
	need(isPort(c.rtp.portMin, false) && isPort(c.rtp.portMax, false), 'rtp.portMin and rtp.portMax must be ports 1-65535');
	need(c.rtp.portMax - c.rtp.portMin >= 1, 'rtp.portMax must be above rtp.portMin');
	need(Number.isFinite(c.rtp.timeoutSec) && c.rtp.timeoutSec >= 0, 'rtp.timeoutSec must be >= 0');
	need(Number.isInteger(c.mixer.workers) && c.mixer.workers >= 1 && c.mixer.workers <= 64, 'mixer.workers must be 1-64');
	need(SAMPLE_RATES.has(c.mixer.sampleRate), 'mixer.sampleRate must be 8000, 16000 or 48000');
	need(Array.isArray(c.rooms), 'rooms must be an array');
	const numbers = new Set<string>();
	c.rooms.forEach((room, i) => {
		need(isObject(room), `rooms[${i}] must be an object`);
		for (const key of Object.keys(room)) {
			need(['name', 'number', 'sampleRate'].includes(key), `unknown config key "rooms[${i}].${key}"`);
		}
		need(typeof room.name === 'string' && room.name.length > 0, `rooms[${i}].name must be a non-empty string`);
		need(typeof room.number === 'string' && /^[0-9A-Za-z_.+-]{1,32}$/.test(room.number), `rooms[${i}].number must be 1-32 dial characters`);
		need(!numbers.has(room.number), `rooms[${i}].number ${room.number} is used twice`);
		numbers.add(room.number);
		need(room.sampleRate === undefined || SAMPLE_RATES.has(room.sampleRate), `rooms[${i}].sampleRate must be 8000, 16000 or 48000`);
	});
	// Quoted into WWW-Authenticate: no control characters.
	need(typeof c.sip.realm === 'string' && c.sip.realm.length > 0 && !/[\x00-\x1f\x7f]/.test(c.sip.realm), 'sip.realm must be a non-empty string without control characters');
	need(typeof c.sip.authenticateRoomCalls === 'boolean', 'sip.authenticateRoomCalls must be a boolean');
	const rl = c.sip.rateLimit;
	need(isObject(rl) && Number.isFinite(rl.perSecond) && rl.perSecond >= 0, 'sip.rateLimit.perSecond must be a number >= 0 (0 disables the limit)');
	need(Number.isFinite(rl.burst) && rl.burst >= 1, 'sip.rateLimit.burst must be a number >= 1');
	const r = c.registrar;
	for (const key of ['minExpires', 'maxExpires', 'defaultExpires'] as const) {
		need(Number.isInteger(r[key]) && r[key] >= 1 && r[key] <= 0xffffffff, `registrar.${key} must be a positive integer (seconds)`);
	}
	need(r.minExpires <= r.maxExpires, 'registrar.minExpires must not be above registrar.maxExpires');
	need(r.defaultExpires >= r.minExpires && r.defaultExpires <= r.maxExpires, 'registrar.defaultExpires must lie between registrar.minExpires and registrar.maxExpires');
	need(typeof c.http.enabled === 'boolean', 'http.enabled must be a boolean');
	need(typeof c.http.host === 'string' && c.http.host.length > 0, 'http.host must be a non-empty string');
	need(isPort(c.http.port, true), 'http.port must be an integer 0-65535');
	need(c.dataDir === undefined || (typeof c.dataDir === 'string' && c.dataDir.length > 0), 'dataDir must be a non-empty string');
	need(Array.isArray(c.users), 'users must be an array');
	const extensions = new Set<string>();
	c.users.forEach((user, i) => {
		need(isObject(user), `users[${i}] must be an object`);
		for (const key of Object.keys(user)) {
			need(['extension', 'displayName', 'password', 'ha1'].includes(key), `unknown config key "users[${i}].${key}"`);
		}
		need(typeof user.extension === 'string' && /^[0-9A-Za-z_.+-]{1,32}$/.test(user.extension), `users[${i}].extension must be 1-32 dial characters`);
		need(!extensions.has(user.extension), `users[${i}].extension ${user.extension} is used twice`);
		need(!numbers.has(user.extension), `users[${i}].extension ${user.extension} is also a room number`);
		extensions.add(user.extension);
		need(typeof user.displayName === 'string', `users[${i}].displayName must be a string`);
		need((user.password === undefined) !== (user.ha1 === undefined), `users[${i}] needs exactly one of password and ha1`);
		if (user.password !== undefined) {
			need(typeof user.password === 'string' && user.password.length > 0, `users[${i}].password must be a non-empty string`);
		} else {
			const h = user.ha1 as unknown;
			need(
				isObject(h) && Object.keys(h).every((k) => k === 'md5' || k === 'sha256') && typeof h['md5'] === 'string' && /^[0-9a-f]{32}$/i.test(h['md5']) && typeof h['sha256'] === 'string' && /^[0-9a-f]{64}$/i.test(h['sha256']),
				`users[${i}].ha1 must be { "md5": 32 hex digits, "sha256": 64 hex digits }`,
			);
		}
	});
	validateTransferConfig(c.transfer);
	validateVoicemailConfig(c.voicemail);
	return c;
}

/**
 * Replaces every user's password by its HA1 hashes for the realm, in new
 * objects (the caller's input is left as it was), so the resolved
 * configuration, and everything built from it, never holds a cleartext password.
 */
function hashPasswords(c: Config): Config {
	const users = c.users.map((u): UserConfig => {
		const ha1 = u.ha1 !== undefined ? { md5: u.ha1.md5.toLowerCase(), sha256: u.ha1.sha256.toLowerCase() } : ha1ForAllAlgorithms(u.extension, c.sip.realm, u.password ?? '');
		return { extension: u.extension, displayName: u.displayName, ha1 };
	});
	return { ...c, users };
}

/** Embedded defaults overlaid with `partial` (e.g. from a file), validated. */
export function resolveConfig(partial: DeepPartial<Config> = {}): Config {
	if (!isObject(partial)) {
		throw new ConfigError('configuration must be a JSON object');
	}
	const merged = merge(defaultConfig as unknown as Record<string, unknown>, partial as Record<string, unknown>, '', OPTIONAL_KEYS) as unknown as Config;
	return hashPasswords(validateConfig(merged));
}

/** Reads a JSON config file (keys starting with "//" are comments). */
export function loadConfigFile(path: string): DeepPartial<Config> {
	let text: string;
	try {
		text = readFileSync(path, 'utf8');
	} catch (error) {
		throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
	}
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch (error) {
		throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
	}
	return stripComments(json) as DeepPartial<Config>;
}

function stripComments(v: unknown): unknown {
	if (Array.isArray(v)) {
		return v.map(stripComments);
	}
	if (isObject(v)) {
		const out: Record<string, unknown> = {};
		for (const [k, val] of Object.entries(v)) {
			if (!k.startsWith('//')) {
				out[k] = stripComments(val);
			}
		}
		return out;
	}
	return v;
}

/** Environment overrides for the most common deployment knobs. */
export function envOverrides(env: NodeJS.ProcessEnv): DeepPartial<Config> {
	const out: DeepPartial<Config> = {};
	const sip: Record<string, unknown> = {};
	const rtp: Record<string, unknown> = {};
	if (env['CONFSRV_SIP_HOST']) {
		sip['host'] = env['CONFSRV_SIP_HOST'];
		rtp['host'] = env['CONFSRV_SIP_HOST'];
	}
	if (env['CONFSRV_SIP_PORT']) {
		sip['port'] = Number(env['CONFSRV_SIP_PORT']);
	}
	if (env['CONFSRV_ADVERTISED_ADDRESS']) {
		sip['advertisedAddress'] = env['CONFSRV_ADVERTISED_ADDRESS'];
		rtp['advertisedAddress'] = env['CONFSRV_ADVERTISED_ADDRESS'];
	}
	if (Object.keys(sip).length) {
		(out as Record<string, unknown>)['sip'] = sip;
	}
	if (Object.keys(rtp).length) {
		(out as Record<string, unknown>)['rtp'] = rtp;
	}
	return out;
}

/** Where SIP and SDP tell peers to reach us. */
export function advertisedSipAddress(c: Config): string {
	if (c.sip.advertisedAddress) {
		return c.sip.advertisedAddress;
	}
	return c.sip.host === '0.0.0.0' || c.sip.host === '::' ? '127.0.0.1' : c.sip.host;
}

export function advertisedRtpAddress(c: Config): string {
	if (c.rtp.advertisedAddress) {
		return c.rtp.advertisedAddress;
	}
	if (c.rtp.host !== '0.0.0.0' && c.rtp.host !== '::') {
		return c.rtp.host;
	}
	return advertisedSipAddress(c);
}
