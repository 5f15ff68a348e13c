/**
 * DTMF as the call logic sees it: one typed event whatever the digit came
 * from — RFC 4733 telephone-event packets, SIP INFO, or tones detected in
 * the audio (G.711 legs whose phone sends neither).
 */

export type DtmfSource = 'rfc4733' | 'info' | 'inband';

export interface DtmfEvent {
	/** '0'-'9', '*', '#', 'A'-'D'. */
	digit: string;
	source: DtmfSource;
	/**
	 * Key press length: the RFC 4733 event duration, the in-band tone's
	 * length, the SIP INFO Duration; 0 when the source did not say.
	 */
	durationMs: number;
}

/** The 16 DTMF digits in RFC 4733 event-code order (0-9, 10 = '*', 11 = '#', 12-15 = A-D). */
export const DTMF_DIGITS = '0123456789*#ABCD';

/** True for a single DTMF digit ('0'-'9', '*', '#', 'A'-'D', upper case). */
export function isDtmfDigit(s: string): boolean {
	return s.length === 1 && DTMF_DIGITS.includes(s);
}

/** Longest SIP INFO body looked at; DTMF bodies are a few dozen bytes. */
const MAX_BODY = 1024;
/** Longest key press believed; longer Duration values are dropped, the digit kept. */
const MAX_DURATION_MS = 60_000;

/**
 * A digit from a SIP INFO request, or null when the body carries none.
 *
 * `application/dtmf-relay` (the de facto format, no RFC):
 *
 *   Signal=5\r\n
 *   Duration=160\r\n
 *
 * Keys are case-insensitive and may have blanks around '='; line ends may be
 * CRLF, LF or CR; unknown keys are ignored. Signal is a digit ('a'-'d' are
 * accepted as 'A'-'D') or an RFC 4733 event code 0-15 ('10' = '*', '11' =
 * '#'). A Duration that is not a positive whole number of ms (or is absurdly
 * long) is ignored; the digit still counts.
 *
 * `application/dtmf`: the body is the digit (or event code) alone; a body in
 * the dtmf-relay form is accepted too, as some phones send one.
 *
 * Content-Type parameters (`; charset=…`) and case are ignored; any other
 * content type gives null.
 */
export function parseSipInfoDtmf(contentType: string, body: string): { digit: string; durationMs?: number } | null {
	if (typeof contentType !== 'string' || typeof body !== 'string' || body.length > MAX_BODY) {
		return null;
	}
	const semi = contentType.indexOf(';');
	const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
	if (type === 'application/dtmf-relay') {
		return parseRelay(body);
	}
	if (type === 'application/dtmf') {
		if (body.includes('=')) {
			return parseRelay(body);
		}
		const digit = signalDigit(body.trim());
		return digit === '' ? null : { digit };
	}
	return null;
}

function parseRelay(body: string): { digit: string; durationMs?: number } | null {
	let signal: string | undefined;
	let duration: string | undefined;
	for (const line of body.split(/\r\n|\n|\r/)) {
		const eq = line.indexOf('=');
		if (eq < 0) {
			continue;
		}
		const key = line.slice(0, eq).trim().toLowerCase();
		const value = line.slice(eq + 1).trim();
		if (key === 'signal') {
			if (signal !== undefined && signal !== value) {
				// Two different digits in one request: trust neither.
				return null;
			}
			signal = value;
		} else if (key === 'duration' && duration === undefined) {
			duration = value;
		}
	}
	if (signal === undefined) {
		return null;
	}
	const digit = signalDigit(signal);
	if (digit === '') {
		return null;
	}
	if (duration !== undefined && /^\d{1,6}$/.test(duration)) {
		const ms = Number(duration);
		if (ms > 0 && ms <= MAX_DURATION_MS) {
			return { digit, durationMs: ms };
		}
	}
	return { digit };
}

/** A Signal value as a digit: the digit itself or an event code 0-15; '' otherwise. */
function signalDigit(value: string): string {
	if (value.length === 1) {
		const d = value.toUpperCase();
		return DTMF_DIGITS.includes(d) ? d : '';
	}
	if (/^\d{2}$/.test(value)) {
		const code = Number(value);
		return code < 16 ? DTMF_DIGITS[code]! : '';
	}
	return '';
}

/**
 * Drops the second report of one key press when a phone signals it twice:
 * say RFC 4733 packets and the tones left in its audio, which the in-band
 * detector hears a jitter-buffer delay and 40 ms of detection later.
 *
 * Rule: a digit equal to the last accepted one, from a different source,
 * within `windowMs` of it, is a duplicate. The same source is always
 * believed (each source already gives one event per press), so a fast
 * "5 5" from one source gives two digits; a digit that differs is always
 * accepted. No allocation.
 */
export class DtmfDeduplicator {
	readonly windowMs: number;
	#digit = '';
	#source: DtmfSource | '' = '';
	#at = 0;

	constructor(windowMs = 500) {
		if (!(windowMs >= 0) || !Number.isFinite(windowMs)) {
			throw new RangeError(`windowMs ${windowMs} must be ≥ 0`);
		}
		this.windowMs = windowMs;
	}

	/** True when the digit should reach the call logic; false for a duplicate. */
	accept(digit: string, source: DtmfSource, nowMs: number): boolean {
		if (digit === this.#digit && source !== this.#source) {
			const since = nowMs - this.#at;
			if (since >= 0 && since < this.windowMs) {
				return false;
			}
		}
		this.#digit = digit;
		this.#source = source;
		this.#at = nowMs;
		return true;
	}

	reset(): void {
		this.#digit = '';
		this.#source = '';
		this.#at = 0;
	}
}
