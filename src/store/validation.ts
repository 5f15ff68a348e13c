/**
 * The rules for what the store accepts, in one table-like place. The API's
 * JSON schemas are built from the same patterns and limits, so a request the
 * schema passes is refused here only for rules a schema cannot see (a PIN
 * against its room's length, uniqueness, an unknown owner).
 */
import { randomInt } from 'node:crypto';
import { PinInvalidError, ValidationError, WhitelistInvalidError } from './errors.js';
import { ACCESS_MODES, LANGUAGES, SAMPLE_RATES, TRANSPORTS, type AccessMode, type Language, type SampleRate, type Transport } from './types.js';

/** Room numbers and extensions: what config accepts too (the Request-URI user part). */
export const NUMBER_PATTERN = '^[0-9A-Za-z_.+-]{1,32}$';
/** PINs: digits only, at least one. */
export const PIN_PATTERN = '^[0-9]+$';
export const PIN_MAX_LENGTH = 32;
/** A room may require a PIN length in this range. */
export const PIN_LENGTH_MIN = 4;
export const PIN_LENGTH_MAX = 10;
/** Whitelist entries: caller numbers (E.164-like, optional +). */
export const CALLER_NUMBER_PATTERN = '^\\+?[0-9]{1,20}$';
export const WHITELIST_MAX = 1000;
/** Names and display names: no control characters (they end up in logs and SIP headers). */
export const TEXT_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$';
export const NAME_MAX_LENGTH = 100;
export const PASSWORD_MAX_LENGTH = 128;
export const MAX_PARTICIPANTS_MAX = 10_000;

const numberRe = new RegExp(NUMBER_PATTERN);
const pinRe = new RegExp(PIN_PATTERN);
const callerRe = new RegExp(CALLER_NUMBER_PATTERN);
const textRe = new RegExp(TEXT_PATTERN, 'u');

function fail(field: string, message: string): never {
	throw new ValidationError(field, message);
}

export function checkNumber(field: string, v: unknown): string {
	if (typeof v !== 'string' || !numberRe.test(v)) {
		fail(field, `${field} must be 1-32 dial characters (0-9 A-Z a-z _ . + -)`);
	}
	return v;
}

export function checkText(field: string, v: unknown, minLength: number): string {
	if (typeof v !== 'string' || v.length < minLength || v.length > NAME_MAX_LENGTH || !textRe.test(v)) {
		fail(field, `${field} must be a string of ${minLength}-${NAME_MAX_LENGTH} characters without control characters`);
	}
	return v;
}

export function checkPassword(v: unknown): string {
	if (typeof v !== 'string' || v.length < 1 || v.length > PASSWORD_MAX_LENGTH) {
		fail('password', `password must be a string of 1-${PASSWORD_MAX_LENGTH} characters`);
	}
	return v;
}

export function checkLanguage(v: unknown): Language {
	if (!(LANGUAGES as readonly unknown[]).includes(v)) {
		fail('language', `language must be one of ${LANGUAGES.join(', ')}`);
	}
	return v as Language;
}

export function checkSampleRate(v: unknown): SampleRate {
	if (!(SAMPLE_RATES as readonly unknown[]).includes(v)) {
		fail('sampleRate', `sampleRate must be one of ${SAMPLE_RATES.join(', ')}`);
	}
	return v as SampleRate;
}

export function checkAccessMode(v: unknown): AccessMode {
	if (!(ACCESS_MODES as readonly unknown[]).includes(v)) {
		fail('accessMode', `accessMode must be one of ${ACCESS_MODES.join(', ')}`);
	}
	return v as AccessMode;
}

export function checkTransport(v: unknown): Transport {
	if (!(TRANSPORTS as readonly unknown[]).includes(v)) {
		fail('source.transport', `source.transport must be one of ${TRANSPORTS.join(', ')}`);
	}
	return v as Transport;
}

export function checkBoolean(field: string, v: unknown): boolean {
	if (typeof v !== 'boolean') {
		fail(field, `${field} must be a boolean`);
	}
	return v;
}

export function checkPinLength(v: unknown): number | null {
	if (v === null) {
		return null;
	}
	if (!Number.isInteger(v) || (v as number) < PIN_LENGTH_MIN || (v as number) > PIN_LENGTH_MAX) {
		fail('pinLength', `pinLength must be an integer ${PIN_LENGTH_MIN}-${PIN_LENGTH_MAX} or null`);
	}
	return v as number;
}

/** Digits only, at least one; exactly `length` digits when the room requires a length. */
export function checkPin(v: unknown, length: number | null): string {
	if (typeof v !== 'string' || !pinRe.test(v) || v.length > PIN_MAX_LENGTH) {
		throw new PinInvalidError(`pin must be 1-${PIN_MAX_LENGTH} digits (0-9 only)`);
	}
	if (length !== null && v.length !== length) {
		throw new PinInvalidError(`pin must have exactly ${length} digits (the room's pinLength)`);
	}
	return v;
}

export function checkMaxParticipants(v: unknown): number | null {
	if (v === null) {
		return null;
	}
	if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > MAX_PARTICIPANTS_MAX) {
		fail('maxParticipants', `maxParticipants must be an integer 1-${MAX_PARTICIPANTS_MAX} or null (unlimited)`);
	}
	return v as number;
}

/** Caller numbers, duplicates dropped, order kept. */
export function checkWhitelist(v: unknown): string[] {
	if (!Array.isArray(v)) {
		throw new WhitelistInvalidError('whitelist', 'whitelist must be an array of caller numbers');
	}
	if (v.length > WHITELIST_MAX) {
		throw new WhitelistInvalidError('whitelist', `whitelist may hold at most ${WHITELIST_MAX} numbers`);
	}
	const out = new Set<string>();
	v.forEach((entry: unknown, i) => {
		out.add(checkCallerNumber(`whitelist[${i}]`, entry));
	});
	return [...out];
}

export function checkCallerNumber(field: string, v: unknown): string {
	if (typeof v !== 'string' || !callerRe.test(v)) {
		throw new WhitelistInvalidError(field, `${field} must be a caller number: an optional + and 1-20 digits`);
	}
	return v;
}

/**
 * All one digit, or a run up or down (1234, 9876, 8901): the first things
 * anyone tries. Generated PINs avoid them; PINs an admin sets are their call.
 */
function isTrivialPin(pin: string): boolean {
	let same = true;
	let up = true;
	let down = true;
	for (let i = 1; i < pin.length; i++) {
		const prev = pin.charCodeAt(i - 1) - 48;
		const cur = pin.charCodeAt(i) - 48;
		same &&= cur === prev;
		up &&= cur === (prev + 1) % 10;
		down &&= cur === (prev + 9) % 10;
	}
	return same || up || down;
}

/** A random PIN from crypto.randomInt: `length` digits, or 4-6 when the room requires none. */
export function generatePin(length: number | null = null): string {
	const n = length ?? randomInt(4, 7);
	for (;;) {
		let pin = '';
		for (let i = 0; i < n; i++) {
			pin += String(randomInt(0, 10));
		}
		if (!isTrivialPin(pin)) {
			return pin;
		}
	}
}
