import { ConfigError } from '../common/errors.js';
import { DEFAULT_KEYS, validateKeys, type KeypadKeys } from './keypad.js';

/**
 * A voice message the server plays: one of the system prompts (in the
 * prompt set's `language`), a WAV file of your own, or `text` spoken by
 * espeak-ng (synthesised once and cached). `none`: no message.
 */
export interface VoiceMessageConfig {
	source: 'none' | 'system' | 'file' | 'tts';
	/** source 'file': path of a WAV file (PCM16 mono, any rate). */
	file: string;
	/** source 'tts': what to say. */
	text: string;
	/** Prompt set language for 'system', espeak-ng voice for 'tts': en, de, ru, it. */
	language: string;
}

/**
 * What happens to the client when the transfer fails (B busy, no answer
 * within noAnswerSec, unreachable), set apart for incoming and outgoing calls:
 *
 * - return:    ring A again (returnRingSec) and put the client back with A;
 *              optional messages to A (on answer) and to the client; if A does
 *              not answer either and rerouteToOriginal is on, the call goes to
 *              the number the client originally called (its first route);
 *              otherwise the client gets `message` and the call ends.
 * - apologise: play `message` to the client and hang up.
 * - voicemail: play `message` as the greeting, a beep, record a message for
 *              `mailbox` (empty: the transfer target's number).
 */
export interface FailurePolicyConfig {
	action: 'return' | 'apologise' | 'voicemail';
	returnRingSec: number;
	rerouteToOriginal: boolean;
	messageToA: VoiceMessageConfig;
	messageToClient: VoiceMessageConfig;
	message: VoiceMessageConfig;
	mailbox: string;
}

/** What B sees as the caller of a transferred call. */
export interface CallerIdConfig {
	/**
	 * called: the number the client called (the company's number); client: the
	 * client's own number; fixed: `number` and `displayName` below.
	 */
	mode: 'called' | 'client' | 'fixed';
	number: string;
	displayName: string;
}

export interface TransferConfig {
	/** Feature keys during calls through the server. */
	enabled: boolean;
	/** Who gets the feature keys: registered users (extensions) only, or every party. */
	keypadFor: 'users' | 'all';
	keys: KeypadKeys;
	/** Wait for the next digit of a target (and of an ambiguous key like `*` before `**`). */
	digitTimeoutMs: number;
	/** A target this long is dialed without waiting for the terminator. */
	maxDigits: number;
	/** B not answering within this long is a failed transfer. */
	noAnswerSec: number;
	/** WAV file the client hears on hold; empty: the generated default (assets/melodies/transfer.wav). */
	melody: string;
	callerId: CallerIdConfig;
	/** Failure policy for calls that came in to the company (from outside to an extension). */
	incoming: FailurePolicyConfig;
	/** Failure policy for calls an employee placed (outgoing, extension to extension, API-originated). */
	outgoing: FailurePolicyConfig;
}

export interface VoicemailConfig {
	/** Where message WAV files go; empty: <dataDir>/voicemail (or a temporary directory without dataDir). */
	dir: string;
	/** Longest message. */
	maxMessageSec: number;
	/** Silence after speech that ends a message. 0: only hang-up or maxMessageSec end it. */
	silenceStopSec: number;
	/** Said after the recording is stored (before hanging up). */
	saved: VoiceMessageConfig;
}

const message = (source: VoiceMessageConfig['source'], text = ''): VoiceMessageConfig => ({ source, file: '', text, language: 'en' });

function policy(action: FailurePolicyConfig['action']): FailurePolicyConfig {
	return {
		action,
		returnRingSec: 30,
		rerouteToOriginal: false,
		messageToA: message('system'),
		messageToClient: message('none'),
		message: message('system'),
		mailbox: '',
	};
}

export function defaultTransferConfig(): TransferConfig {
	return {
		enabled: true,
		keypadFor: 'users',
		keys: { ...DEFAULT_KEYS },
		digitTimeoutMs: 3000,
		maxDigits: 32,
		noAnswerSec: 30,
		melody: '',
		callerId: { mode: 'client', number: '', displayName: '' },
		incoming: policy('return'),
		outgoing: policy('return'),
	};
}

export function defaultVoicemailConfig(): VoicemailConfig {
	return { dir: '', maxMessageSec: 120, silenceStopSec: 5, saved: message('system') };
}

const LANGUAGES = new Set(['en', 'de', 'ru', 'it']);

function need(cond: boolean, msg: string): void {
	if (!cond) {
		throw new ConfigError(msg);
	}
}

function isObject(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function validateMessage(m: VoiceMessageConfig, path: string): void {
	need(isObject(m), `${path} must be an object`);
	need(['none', 'system', 'file', 'tts'].includes(m.source), `${path}.source must be "none", "system", "file" or "tts"`);
	need(typeof m.file === 'string' && typeof m.text === 'string', `${path}.file and ${path}.text must be strings`);
	need(typeof m.language === 'string' && LANGUAGES.has(m.language), `${path}.language must be en, de, ru or it`);
	need(m.source !== 'file' || m.file.length > 0, `${path}.file must name a WAV file when source is "file"`);
	// Passed to espeak-ng as one argument (never through a shell); bounded so a config cannot make minutes of speech.
	need(m.source !== 'tts' || (m.text.trim().length > 0 && m.text.length <= 500 && !/[\x00-\x1f]/.test(m.text)), `${path}.text must be 1-500 characters without control characters when source is "tts"`);
}

function validatePolicy(p: FailurePolicyConfig, path: string): void {
	need(isObject(p), `${path} must be an object`);
	need(['return', 'apologise', 'voicemail'].includes(p.action), `${path}.action must be "return", "apologise" or "voicemail"`);
	need(Number.isFinite(p.returnRingSec) && p.returnRingSec >= 1 && p.returnRingSec <= 600, `${path}.returnRingSec must be 1-600`);
	need(typeof p.rerouteToOriginal === 'boolean', `${path}.rerouteToOriginal must be a boolean`);
	validateMessage(p.messageToA, `${path}.messageToA`);
	validateMessage(p.messageToClient, `${path}.messageToClient`);
	validateMessage(p.message, `${path}.message`);
	need(typeof p.mailbox === 'string' && /^[0-9A-Za-z_.+-]{0,32}$/.test(p.mailbox), `${path}.mailbox must be empty or 1-32 dial characters`);
}

/** Validates the `transfer` block; throws ConfigError naming the key. */
export function validateTransferConfig(t: TransferConfig): void {
	need(isObject(t), 'transfer must be an object');
	need(typeof t.enabled === 'boolean', 'transfer.enabled must be a boolean');
	need(t.keypadFor === 'users' || t.keypadFor === 'all', 'transfer.keypadFor must be "users" or "all"');
	need(isObject(t.keys), 'transfer.keys must be an object');
	for (const key of Object.keys(t.keys)) {
		need(key in DEFAULT_KEYS, `unknown config key "transfer.keys.${key}"`);
	}
	try {
		validateKeys(t.keys);
	} catch (error) {
		throw new ConfigError(`transfer.${(error as Error).message}`);
	}
	need(Number.isInteger(t.digitTimeoutMs) && t.digitTimeoutMs >= 500 && t.digitTimeoutMs <= 30_000, 'transfer.digitTimeoutMs must be 500-30000');
	need(Number.isInteger(t.maxDigits) && t.maxDigits >= 1 && t.maxDigits <= 64, 'transfer.maxDigits must be 1-64');
	need(Number.isFinite(t.noAnswerSec) && t.noAnswerSec >= 1 && t.noAnswerSec <= 600, 'transfer.noAnswerSec must be 1-600');
	need(typeof t.melody === 'string', 'transfer.melody must be a string (empty: the generated default)');
	const c = t.callerId;
	need(isObject(c) && ['called', 'client', 'fixed'].includes(c.mode), 'transfer.callerId.mode must be "called", "client" or "fixed"');
	need(typeof c.number === 'string' && /^[+]?[0-9A-Za-z_.-]{0,32}$/.test(c.number), 'transfer.callerId.number must be a number (up to 32 dial characters)');
	need(c.mode !== 'fixed' || c.number.length > 0, 'transfer.callerId.number is required when mode is "fixed"');
	need(typeof c.displayName === 'string' && c.displayName.length <= 64 && !/["\\\x00-\x1f]/.test(c.displayName), 'transfer.callerId.displayName must be up to 64 characters without quotes, backslashes or control characters');
	validatePolicy(t.incoming, 'transfer.incoming');
	validatePolicy(t.outgoing, 'transfer.outgoing');
}

/** Validates the `voicemail` block; throws ConfigError naming the key. */
export function validateVoicemailConfig(v: VoicemailConfig): void {
	need(isObject(v), 'voicemail must be an object');
	need(typeof v.dir === 'string', 'voicemail.dir must be a string (empty: <dataDir>/voicemail)');
	need(Number.isFinite(v.maxMessageSec) && v.maxMessageSec >= 1 && v.maxMessageSec <= 3600, 'voicemail.maxMessageSec must be 1-3600');
	need(Number.isFinite(v.silenceStopSec) && v.silenceStopSec >= 0 && v.silenceStopSec <= 60, 'voicemail.silenceStopSec must be 0-60');
	validateMessage(v.saved, 'voicemail.saved');
}
