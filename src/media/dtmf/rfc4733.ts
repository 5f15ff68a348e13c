import { dtmfDigit } from '../codecs/telephone-event.js';
import { tsDiff } from '../rtp/seq.js';

/** A press whose packets stop this long without an end packet is reported anyway (its end packets were lost). */
export const RFC4733_END_TIMEOUT_MS = 300;

/**
 * RFC 4733 telephone-events to one digit per key press, reported when the
 * press ends, with its length.
 *
 * A press is all the packets sharing one RTP timestamp (the start of the
 * event): updates with a growing duration, then the end packet (E bit),
 * usually sent three times. It is reported on the first end packet, or —
 * when the end packets were lost — when the next press starts or after
 * RFC4733_END_TIMEOUT_MS without packets (poll()). Repeated end packets,
 * late packets of an earlier press and the continuation segments of a
 * press longer than the 16-bit duration (RFC 4733 §2.5.1.3: same event,
 * timestamp = previous timestamp + previous duration) never give a second
 * digit. Non-DTMF events (flash …) give none. Allocates nothing.
 */
export class Rfc4733Digits {
	readonly clockRate: number;
	readonly #onDigit: (digit: string, durationMs: number) => void;
	readonly #staleWindow: number;
	#have = false;
	#ts = 0;
	#event = -1;
	/** Duration of the earlier segments of a long press (timestamp units). */
	#base = 0;
	#duration = 0;
	#ended = false;
	#reported = false;
	#lastAt = 0;

	constructor(onDigit: (digit: string, durationMs: number) => void, clockRate = 8000) {
		this.#onDigit = onDigit;
		this.clockRate = clockRate;
		this.#staleWindow = clockRate * 5;
	}

	/** Whether a key is held now (a press started and has not ended): its audio should not reach the room. */
	get active(): boolean {
		return this.#have && !this.#ended;
	}

	/** Forgets the current press without reporting it (new SSRC, new remote). */
	reset(): void {
		this.#have = false;
		this.#event = -1;
		this.#ended = false;
		this.#reported = false;
		this.#base = 0;
		this.#duration = 0;
	}

	/** One telephone-event packet: `ts` its RTP timestamp, the payload `len` bytes at `off`, at `nowMs`. */
	push(ts: number, payload: Buffer, off: number, len: number, nowMs: number): void {
		if (len < 4) {
			return;
		}
		const event = payload[off]!;
		const end = (payload[off + 1]! & 0x80) !== 0;
		const duration = (payload[off + 2]! << 8) | payload[off + 3]!;
		if (this.#have) {
			const d = tsDiff(ts, this.#ts);
			if (d === 0) {
				if (event === this.#event) {
					this.#lastAt = nowMs;
					if (duration > this.#duration) {
						this.#duration = duration;
					}
					if (end) {
						this.#ended = true;
						this.#report();
					}
				}
				return;
			}
			if (d < 0 && -d < this.#staleWindow) {
				return;
			}
			if (event === this.#event && !this.#ended && d >= 0xff00 && d <= 0x10000) {
				// The next segment of one long press.
				this.#base += this.#duration;
				this.#ts = ts;
				this.#duration = duration;
				this.#lastAt = nowMs;
				if (end) {
					this.#ended = true;
					this.#report();
				}
				return;
			}
			// A new press: the previous one ended even if its end packets were lost.
			this.#report();
		}
		this.#have = true;
		this.#ts = ts;
		this.#event = event;
		this.#base = 0;
		this.#duration = duration;
		this.#ended = end;
		this.#reported = false;
		this.#lastAt = nowMs;
		if (end) {
			this.#report();
		}
	}

	/** Reports a press whose packets stopped without an end packet; call every tick. */
	poll(nowMs: number): void {
		if (this.#have && !this.#reported && nowMs - this.#lastAt >= RFC4733_END_TIMEOUT_MS) {
			this.#ended = true;
			this.#report();
		}
	}

	#report(): void {
		if (this.#reported) {
			return;
		}
		this.#reported = true;
		const digit = dtmfDigit(this.#event);
		if (digit !== '') {
			this.#onDigit(digit, Math.round(((this.#base + this.#duration) * 1000) / this.clockRate));
		}
	}
}
