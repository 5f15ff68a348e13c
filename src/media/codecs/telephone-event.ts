import { tsDiff } from '../rtp/seq.js';

/**
 * RFC 4733 telephone-event payload (DTMF named events).
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |     event     |E|R| volume    |          duration             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * One event is sent as many packets sharing the RTP timestamp of its start
 * (growing duration), the last one with E set and repeated three times.
 */
export const TELEPHONE_EVENT_SIZE = 4;

/** Event codes 0-15 → '0'-'9', '*', '#', 'A'-'D'. */
const DIGITS = '0123456789*#ABCD';

/** The digit for an event code, or '' for events that are not DTMF (flash …). */
export function dtmfDigit(event: number): string {
	return event >= 0 && event < 16 ? DIGITS[event]! : '';
}

/** The event code for a digit ('0'-'9', '*', '#', 'A'-'D'), or -1. */
export function dtmfEvent(digit: string): number {
	return digit.length === 1 ? DIGITS.indexOf(digit.toUpperCase()) : -1;
}

export function readEvent(buf: Buffer, off: number): number {
	return buf[off]!;
}

export function readEnd(buf: Buffer, off: number): boolean {
	return (buf[off + 1]! & 0x80) !== 0;
}

/** Power level in -dBm0 (0-63). */
export function readVolume(buf: Buffer, off: number): number {
	return buf[off + 1]! & 0x3f;
}

/** Duration in RTP timestamp units since the event's start. */
export function readDuration(buf: Buffer, off: number): number {
	return (buf[off + 2]! << 8) | buf[off + 3]!;
}

export interface TelephoneEvent {
	event: number;
	end: boolean;
	volume: number;
	duration: number;
}

/** Allocating parse for the control path and tests; null when too short. */
export function parseTelephoneEvent(buf: Buffer, off: number, len: number): TelephoneEvent | null {
	if (len < TELEPHONE_EVENT_SIZE || off + TELEPHONE_EVENT_SIZE > buf.length) {
		return null;
	}
	return {
		event: readEvent(buf, off),
		end: readEnd(buf, off),
		volume: readVolume(buf, off),
		duration: readDuration(buf, off),
	};
}

/** Writes a 4-byte payload at `off`; returns its length. */
export function encodeTelephoneEvent(
	out: Buffer,
	off: number,
	event: number,
	end: boolean,
	volume: number,
	duration: number,
): number {
	out[off] = event & 0xff;
	out[off + 1] = (end ? 0x80 : 0) | (volume & 0x3f);
	out[off + 2] = (duration >>> 8) & 0xff;
	out[off + 3] = duration & 0xff;
	return TELEPHONE_EVENT_SIZE;
}

/**
 * Turns a telephone-event packet stream into one digit per key press.
 *
 * Events are keyed on their RTP timestamp: the first packet seen for a new
 * timestamp reports the digit (whether it is a start, an update or one of the
 * end packets, so a press whose start packets were lost still counts), and
 * every later packet with that timestamp is ignored. Two presses of the same
 * key have different timestamps and give two digits.
 *
 * Not keyed on: late packets of an older event (ignored for a few seconds of
 * timestamp distance), and the continuation segments of an event longer than
 * the 16-bit duration (RFC 4733 §2.5.1.3: same event, new timestamp = old
 * timestamp + old duration, previous segment not ended).
 */
export class DtmfReceiver {
	readonly #staleWindow: number;
	#have = false;
	#ts = 0;
	#event = -1;
	#ended = false;
	#duration = 0;

	/** `clockRate` of the telephone-event payload type (8000 unless the SDP says otherwise). */
	constructor(clockRate = 8000) {
		this.#staleWindow = clockRate * 5;
	}

	/** Forgets the current event (new SSRC, new remote). */
	reset(): void {
		this.#have = false;
		this.#event = -1;
		this.#ended = false;
		this.#duration = 0;
	}

	/**
	 * Feeds one packet: `ts` is its RTP timestamp, the payload is `len` bytes
	 * at `off`. Returns the digit when this packet starts a new key press,
	 * else ''. Non-DTMF events and short payloads return ''.
	 */
	push(ts: number, payload: Buffer, off: number, len: number): string {
		if (len < TELEPHONE_EVENT_SIZE) {
			return '';
		}
		const event = payload[off]!;
		const end = (payload[off + 1]! & 0x80) !== 0;
		const duration = (payload[off + 2]! << 8) | payload[off + 3]!;
		if (this.#have) {
			const d = tsDiff(ts, this.#ts);
			if (d === 0) {
				if (event === this.#event) {
					this.#ended ||= end;
					if (duration > this.#duration) {
						this.#duration = duration;
					}
				}
				return '';
			}
			if (d < 0 && -d < this.#staleWindow) {
				return '';
			}
			// A new segment of a long press starts ~0xFFFF after the previous one.
			const continues = event === this.#event && !this.#ended && d >= 0xff00 && d <= 0x10000;
			this.#ts = ts;
			this.#event = event;
			this.#ended = end;
			this.#duration = duration;
			return continues ? '' : dtmfDigit(event);
		}
		this.#have = true;
		this.#ts = ts;
		this.#event = event;
		this.#ended = end;
		this.#duration = duration;
		return dtmfDigit(event);
	}
}
