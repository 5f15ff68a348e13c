import { readFileSync } from 'node:fs';
import { ConfigError } from '../common/errors.js';

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
	};
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
	},
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

const OPTIONAL_KEYS = new Set(['sip.advertisedAddress', 'rtp.advertisedAddress']);

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
	return c;
}

/** Embedded defaults overlaid with `partial` (e.g. from a file), validated. */
export function resolveConfig(partial: DeepPartial<Config> = {}): Config {
	if (!isObject(partial)) {
		throw new ConfigError('configuration must be a JSON object');
	}
	const merged = merge(defaultConfig as unknown as Record<string, unknown>, partial as Record<string, unknown>, '', OPTIONAL_KEYS) as unknown as Config;
	return validateConfig(merged);
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
