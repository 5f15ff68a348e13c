/**
 * Receive statistics of one RTP stream, as RFC 3550 defines them:
 *
 * - sequence tracking with 16-bit wrap-around (appendix A.1): the extended
 *   highest sequence number, expected = highest − base + 1, lost = expected −
 *   received; a jump of more than MAX_DROPOUT ahead or MAX_MISORDER behind is
 *   a restart once two packets in a row agree on it (or the SSRC changes);
 * - duplicates (a 1024-packet bitmap behind the highest sequence number) and
 *   reordered packets (older than the highest seen, not duplicates);
 * - late packets: transit time (arrival − media time) more than `lateMs` above
 *   the smallest transit seen, i.e. packets a playout buffer of that depth,
 *   anchored on the fastest packet, would have had to drop;
 * - interarrival jitter (appendix A.8): J += (|D| − J) / 16 with D the change
 *   in transit between consecutive packets, reported in milliseconds;
 * - a silent tail: packets that should have arrived after the last one
 *   (the stream stopped), which sequence numbers alone cannot show;
 * - falling behind: a sender that numbers its packets without gaps but
 *   sends fewer than one per ptime (an overloaded server) loses audio all
 *   the same, so `expected` is at least the packets real time calls for
 *   since the window opened (less a slack of two packets).
 *
 * onPacket() does arithmetic only (no allocation), so one instance per
 * participant can sit on the receive path of a load generator.
 */
export interface RtpStatsSnapshot {
	/** Packets the sender sent in the window, by sequence numbers plus the silent tail. */
	expected: number;
	/** Distinct packets received (duplicates not counted). */
	received: number;
	/** expected − received, never below 0. */
	lost: number;
	/** lost / expected (0 when nothing was expected). */
	lossRatio: number;
	duplicates: number;
	/** Arrived after a packet with a higher sequence number. */
	reordered: number;
	/** Transit more than lateMs above the smallest transit seen. */
	late: number;
	/** Missing packets after the last arrival (included in expected and lost). */
	silentTail: number;
	/** Packets real time called for beyond what the sequence numbers account for (sender behind; included in expected and lost). */
	behind: number;
	/** Sequence restarts (big jumps confirmed, SSRC changes). */
	restarts: number;
	/** Interarrival jitter (RFC 3550 A.8) at the end of the window, ms. */
	jitterMs: number;
	/** Mean of the jitter estimate over all packets in the window, ms. */
	meanJitterMs: number;
	/** Largest value the jitter estimate reached, ms. */
	maxJitterMs: number;
	/** Longest gap between two arrivals, ms. */
	maxGapMs: number;
	/** Window length, ms. */
	windowMs: number;
}

export interface RtpReceiveStatsOptions {
	/** RTP timestamp rate (Hz). */
	clockRate: number;
	/** Packet period, ms (for the silent tail). Default 20. */
	ptimeMs?: number;
	/** Transit above the minimum beyond which a packet counts as late, ms. Default 60. */
	lateMs?: number;
	/** How long after the last packet the tail counts as silent, ms. Default 3 packet periods. */
	tailGraceMs?: number;
}

const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
const WINDOW_BITS = 1024;
const WINDOW_MASK = WINDOW_BITS - 1;
const BEHIND_SLACK = 2;
const COUNT_BEFORE_WINDOW = 0;
const COUNT_DUPLICATE = 1;
const COUNT_NEW = 2;

export class RtpReceiveStats {
	readonly clockRate: number;
	readonly ptimeMs: number;
	readonly lateMs: number;
	readonly tailGraceMs: number;
	readonly #seen = new Uint8Array(WINDOW_BITS);

	// Sequence state (kept across reset()).
	#started = false;
	#ssrc = -1;
	#maxExt = 0;
	#badSeq = -1;
	#lastTs = 0;
	#tsExt = 0;
	#lastArrival = 0;
	#haveTransit = false;
	#lastTransit = 0;
	#jitter = 0;

	// Window counters (cleared by reset()).
	#windowStart = 0;
	#baseExt = 0;
	#windowHasBase = false;
	#windowMaxExt = -1;
	#received = 0;
	#duplicates = 0;
	#reordered = 0;
	#late = 0;
	#restarts = 0;
	#foldedExpected = 0;
	#foldedReceived = 0;
	#minTransit = Infinity;
	#jitterSum = 0;
	#jitterN = 0;
	#maxJitter = 0;
	#maxGap = 0;
	#lastWindowArrival = -1;
	#firstWindowArrival = -1;
	#flowingAtReset = false;

	constructor(opts: RtpReceiveStatsOptions) {
		if (!(opts.clockRate > 0)) {
			throw new RangeError('clockRate must be positive');
		}
		this.clockRate = opts.clockRate;
		this.ptimeMs = opts.ptimeMs ?? 20;
		this.lateMs = opts.lateMs ?? 60;
		this.tailGraceMs = opts.tailGraceMs ?? 3 * this.ptimeMs;
	}

	/** Starts a new measurement window at `nowMs`; the stream's sequence state carries on. */
	reset(nowMs: number): void {
		this.#windowStart = nowMs;
		this.#windowHasBase = false;
		this.#windowMaxExt = -1;
		this.#received = 0;
		this.#duplicates = 0;
		this.#reordered = 0;
		this.#late = 0;
		this.#restarts = 0;
		this.#foldedExpected = 0;
		this.#foldedReceived = 0;
		this.#minTransit = Infinity;
		this.#jitterSum = 0;
		this.#jitterN = 0;
		this.#maxJitter = 0;
		this.#maxGap = 0;
		this.#lastWindowArrival = -1;
		this.#firstWindowArrival = -1;
		this.#flowingAtReset = this.#started;
		if (this.#started) {
			// Expect everything after the highest packet seen so far.
			this.#baseExt = this.#maxExt + 1;
			this.#windowHasBase = true;
			this.#windowMaxExt = this.#maxExt;
		}
	}

	/**
	 * One packet: `seq` 16-bit, `ts` 32-bit unsigned, `arrivalMs` on a
	 * monotonic clock, `ssrc` unsigned 32-bit (a change restarts the stream).
	 */
	onPacket(seq: number, ts: number, arrivalMs: number, ssrc = 0): void {
		if (!this.#started || ssrc !== this.#ssrc) {
			if (this.#started) {
				this.#restart();
			}
			this.#start(seq, ts, arrivalMs, ssrc);
			this.#count(this.#maxExt, arrivalMs, true);
			return;
		}
		const maxSeq = this.#maxExt & 0xffff;
		const d = ((seq - maxSeq) << 16) >> 16;
		let ext: number;
		if (d > 0 && d < MAX_DROPOUT) {
			ext = this.#maxExt + d;
			this.#advance(ext);
			this.#badSeq = -1;
		} else if (d <= 0 && d >= -MAX_MISORDER) {
			ext = this.#maxExt + d;
		} else {
			// A big jump: a restart only when the next packet follows it (A.1).
			if (seq === this.#badSeq) {
				this.#restart();
				this.#start(seq, ts, arrivalMs, ssrc);
				this.#count(this.#maxExt, arrivalMs, true);
			} else {
				this.#badSeq = (seq + 1) & 0xffff;
			}
			return;
		}
		const counted = this.#count(ext, arrivalMs, ext === this.#maxExt && d > 0);
		if (counted !== COUNT_DUPLICATE) {
			this.#timing(ts, arrivalMs, counted === COUNT_NEW);
		}
	}

	snapshot(nowMs: number): RtpStatsSnapshot {
		let seqExpected = 0;
		if (this.#windowHasBase && this.#windowMaxExt >= this.#baseExt) {
			seqExpected = this.#windowMaxExt - this.#baseExt + 1;
		}
		const windowMs = Math.max(0, nowMs - this.#windowStart);
		// The stream stopped (or never came): count what should have followed.
		const lastSeen = this.#lastWindowArrival >= 0 ? this.#lastWindowArrival : this.#windowStart;
		const silence = nowMs - lastSeen - this.tailGraceMs;
		const silentTail = silence > 0 ? Math.floor(silence / this.ptimeMs) : 0;
		const bySeq = this.#foldedExpected + seqExpected + silentTail;
		// Real time: the stream flowed from the window start, or from its first packet in the window.
		const anchor = this.#flowingAtReset ? this.#windowStart : this.#firstWindowArrival;
		const byTime = anchor >= 0 ? Math.max(0, Math.floor((nowMs - anchor) / this.ptimeMs) - BEHIND_SLACK) : 0;
		const behind = Math.max(0, byTime - bySeq);
		const expected = bySeq + behind;
		const received = this.#foldedReceived + this.#received;
		const lost = Math.max(0, expected - received);
		const toMs = 1000 / this.clockRate;
		return {
			expected,
			received,
			lost,
			lossRatio: expected > 0 ? lost / expected : 0,
			duplicates: this.#duplicates,
			reordered: this.#reordered,
			late: this.#late,
			silentTail,
			behind,
			restarts: this.#restarts,
			jitterMs: this.#jitter * toMs,
			meanJitterMs: this.#jitterN > 0 ? (this.#jitterSum / this.#jitterN) * toMs : 0,
			maxJitterMs: this.#maxJitter * toMs,
			maxGapMs: this.#maxGap,
			windowMs,
		};
	}

	#start(seq: number, ts: number, arrivalMs: number, ssrc: number): void {
		this.#started = true;
		this.#ssrc = ssrc;
		this.#maxExt = seq;
		this.#badSeq = -1;
		this.#seen.fill(0);
		this.#lastTs = ts;
		this.#tsExt = 0;
		this.#haveTransit = false;
		this.#jitter = 0;
		this.#baseExt = seq;
		this.#windowHasBase = true;
		this.#windowMaxExt = seq;
		this.#minTransit = Infinity;
		this.#timing(ts, arrivalMs, true);
	}

	/** Folds the current stream's window counts into the totals before a restart. */
	#restart(): void {
		if (this.#windowHasBase && this.#windowMaxExt >= this.#baseExt) {
			this.#foldedExpected += this.#windowMaxExt - this.#baseExt + 1;
		}
		this.#foldedReceived += this.#received;
		this.#received = 0;
		this.#windowHasBase = false;
		this.#windowMaxExt = -1;
		this.#restarts++;
	}

	/** Moves the highest sequence number to `ext`, clearing the bitmap slots it passes. */
	#advance(ext: number): void {
		const from = this.#maxExt + 1;
		if (ext - from >= WINDOW_BITS) {
			this.#seen.fill(0);
		} else {
			for (let e = from; e <= ext; e++) {
				this.#seen[e & WINDOW_MASK] = 0;
			}
		}
		this.#maxExt = ext;
	}

	#count(ext: number, arrivalMs: number, isNewMax: boolean): number {
		const slot = ext & WINDOW_MASK;
		if (this.#seen[slot] === 1) {
			if (this.#windowHasBase && ext >= this.#baseExt) {
				this.#duplicates++;
			}
			return COUNT_DUPLICATE;
		}
		this.#seen[slot] = 1;
		if (!this.#windowHasBase || ext < this.#baseExt) {
			// Sent before the window opened.
			return COUNT_BEFORE_WINDOW;
		}
		this.#received++;
		if (!isNewMax && ext < this.#windowMaxExt) {
			this.#reordered++;
		}
		if (ext > this.#windowMaxExt) {
			this.#windowMaxExt = ext;
		}
		if (this.#lastWindowArrival >= 0) {
			const gap = arrivalMs - this.#lastWindowArrival;
			if (gap > this.#maxGap) {
				this.#maxGap = gap;
			}
		}
		this.#lastWindowArrival = arrivalMs;
		if (this.#firstWindowArrival < 0) {
			this.#firstWindowArrival = arrivalMs;
		}
		return COUNT_NEW;
	}

	/** Transit, jitter (A.8) and lateness of the packet just counted. */
	#timing(ts: number, arrivalMs: number, inWindow: boolean): void {
		this.#tsExt += ((ts - this.#lastTs) | 0);
		this.#lastTs = ts;
		const transit = (arrivalMs * this.clockRate) / 1000 - this.#tsExt;
		const hadTransit = this.#haveTransit;
		if (hadTransit) {
			const d = Math.abs(transit - this.#lastTransit);
			this.#jitter += (d - this.#jitter) / 16;
		}
		this.#haveTransit = true;
		this.#lastTransit = transit;
		if (!inWindow) {
			return;
		}
		if (hadTransit) {
			this.#jitterSum += this.#jitter;
			this.#jitterN++;
			if (this.#jitter > this.#maxJitter) {
				this.#maxJitter = this.#jitter;
			}
		}
		if (transit < this.#minTransit) {
			this.#minTransit = transit;
		} else if (((transit - this.#minTransit) * 1000) / this.clockRate > this.lateMs) {
			this.#late++;
		}
	}
}
