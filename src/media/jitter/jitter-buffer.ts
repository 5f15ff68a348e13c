import { seqDiff, tsDiff } from '../rtp/seq.js';

/**
 * Adaptive RTP jitter buffer for one leg's receive stream.
 *
 * Packets are stored by `seq & mask` in a preallocated slot array; payloads are
 * copied into one preallocated store, so push() and pop() allocate nothing.
 *
 *              head (playSeq)                       highSeq
 *               │                                     │
 *   … played    [h] [h+1] [   ] [h+3] … [   ] … [high]    free …
 *               └──────── fewer than capacity ───────┘
 *                 [   ] = not come yet (lost or late if it never does)
 *
 *   slot(seq) = seq & mask; a slot holds `seq` only while its stored seq
 *   matches, so stale slots from earlier rounds never alias a newer packet.
 *   Packets behind the head are late (or duplicates of played ones); a packet
 *   `capacity` or more ahead of the head pushes the head forward (overflow).
 *
 * Playout schedule. Every packet gets a transit time, arrival minus its RTP
 * timestamp (in ms). `base` is the smallest transit seen in the last 2-4 s:
 * the fastest path through the network. A packet with timestamp `ts` is due
 * at `base + ts + target`, where the target delay is
 *
 *   target = clamp(jitterFactor × jitter + frameMs, minDelayMs, maxDelayMs)
 *
 * with `jitter` the RFC 3550 §A.8 interarrival jitter estimate. The target
 * rises at once when jitter rises and falls back slowly (SHRINK_PER_MS).
 *
 * pop() is called once per frame tick and gives at most one packet. With
 * `due = now - (base + ts(head) + target)`, and a half-frame of hysteresis
 * each side so the tick's own jitter does not flap the decision:
 *
 *   due < -frame/2            hold: 'missing' (the caller conceals); this
 *                             inserts a frame of delay when the target grew,
 *                             and waits out silence before a talkspurt.
 *   -frame/2 ≤ due ≤ frame    play the head.
 *   due > frame               behind: drop the head if the next packet is
 *                             here and the buffer holds at least `target`
 *                             of audio (one per pop; as many as needed when
 *                             the delay exceeds maxDelayMs), then play.
 *   head absent               lost when anything later is buffered and its
 *                             time has come ('missing', head moves on);
 *                             otherwise hold (underrun: stall or DTX).
 *
 * The delay is bounded: the target never exceeds maxDelayMs, and a packet
 * that has waited longer than maxDelayMs + frame/2 in the buffer (possible
 * only after a stall put the play head behind) is dropped, not played.
 * After the network path gets slower the base stays low until its window
 * ends (2-4 s); meanwhile packets play as soon as they come.
 *
 * Silence gaps (DTX: sequence numbers continue, the timestamp jumps, the
 * marker bit starts the next talkspurt) need no special case: the talkspurt's
 * first packet is simply held until it is due, so a target that changed
 * during speech takes effect at the talkspurt start without touching speech.
 *
 * One packet is one frame: pop() hands out whole packets. A stream with
 * another packet time (the sender's 30 ms against our 20 ms tick) still plays
 * in order, and the schedule keeps the delay right as long as the caller
 * re-frames the decoded audio and pops when it needs more.
 *
 * Opus FEC: after a 'missing' for a lost packet, peek() copies the next
 * packet (if here) so the caller can decode the lost frame from its FEC data.
 */

export interface JitterBufferOptions {
	/** RTP timestamp rate in Hz (8000 for G.711 and G.722, 48000 for Opus). */
	clockRate: number;
	/** Timestamp units per frame (one pop() tick): 160 for 20 ms at 8 kHz. */
	frameSamples: number;
	/** Lower bound of the target delay; default 20 ms. */
	minDelayMs?: number;
	/** Upper bound of the target delay and of the delay of any played packet; default 200 ms. */
	maxDelayMs?: number;
	/** Target delay before the first measurement; default 2 frames, within [min, max]. */
	initialDelayMs?: number;
	/** Slots (rounded up to a power of two); default 64 packets. */
	capacity?: number;
	/** Largest payload stored; longer packets are refused ('overflow'). Default 1500 bytes. */
	maxPayload?: number;
	/** The `k` in k × jitter + frame; default 4. */
	jitterFactor?: number;
}

export type JitterPushResult = 'ok' | 'late' | 'duplicate' | 'overflow' | 'reset';
export type JitterPopResult = 'frame' | 'missing' | 'empty';

/** pop()'s output, preallocated by the caller (see createJitterFrame) and reused every tick. */
export interface JitterFrame {
	/** At least maxPayload bytes; pop() copies the payload to its start. */
	payload: Buffer;
	/** Payload bytes; 0 for 'missing' and 'empty'. */
	len: number;
	/** Sequence number of the frame played, or of the one that is missing. */
	seq: number;
	/** RTP timestamp of the frame played or concealed. */
	ts: number;
	marker: boolean;
}

/** Stats, updated in place (read them, do not keep a copy expecting it to change). */
export interface JitterStats {
	/** Current target delay (ms). */
	delayMs: number;
	/**
	 * How late the last packet played was behind the fastest path through the
	 * network (ms): the delay the buffer imposes on the stream. It settles at
	 * the target; right after a stall it may be larger while the buffer
	 * catches up by dropping.
	 */
	playoutDelayMs: number;
	/** Time the last packet played spent in the buffer (ms); never more than maxDelayMs + frameMs/2. */
	waitMs: number;
	/** RFC 3550 interarrival jitter (ms). */
	jitterMs: number;
	/** Packets buffered now. */
	buffered: number;
	/** Packets that came after their frame was played or concealed. */
	late: number;
	/** Packets received twice. */
	duplicates: number;
	/** Frames concealed because their packet had not come when due. */
	lost: number;
	/** Packets that arrived before a lower sequence number (and were still in time). */
	reorders: number;
	/** Stream restarts: new SSRC, sequence jump, timestamp going back. */
	resets: number;
	/** Packets discarded unplayed because the buffer was full, or refused as too long. */
	overflows: number;
	/** Frames held back to grow the delay (the caller concealed them). */
	inserted: number;
	/** Packets dropped to shrink the delay. */
	dropped: number;
	/** Ticks with nothing buffered after playout started (stall or silence). */
	underruns: number;
}

/** A JitterFrame with a payload buffer of `maxPayload` bytes. */
export function createJitterFrame(maxPayload = 1500): JitterFrame {
	return { payload: Buffer.alloc(maxPayload), len: 0, seq: 0, ts: 0, marker: false };
}

// Slot states.
const EMPTY = 0;
const BUFFERED = 1;
const PLAYED = 2;
const LOST = 3;
const DROPPED = 4;

/** RFC 3550 §A.1: a larger forward jump, or a larger step back, is a restart candidate. */
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
/** The base (minimum transit) is the minimum over the current and the previous window. */
const BASE_WINDOW_MS = 2000;
/** The target falls by at most this many ms per ms: one 20 ms frame per second. */
const SHRINK_PER_MS = 0.02;
/** After this many concealed ticks with nothing buffered, pop() says 'empty' (idle). */
const CONCEAL_TICKS = 5;
/** Longest packet time (in frames) accepted from timestamp steps. */
const MAX_PACKET_FRAMES = 6;

export class JitterBuffer {
	readonly clockRate: number;
	readonly frameSamples: number;
	readonly frameMs: number;
	readonly minDelayMs: number;
	readonly maxDelayMs: number;
	readonly capacity: number;
	readonly maxPayload: number;
	readonly jitterFactor: number;
	readonly stats: JitterStats;

	readonly #mask: number;
	readonly #msPerTick: number;
	readonly #initialDelayMs: number;
	readonly #state: Uint8Array;
	readonly #seq: Int32Array;
	readonly #ts: Uint32Array;
	/** Extended (unwrapped) timestamp, relative to the stream's first packet. */
	readonly #ext: Float64Array;
	readonly #arrival: Float64Array;
	readonly #len: Int32Array;
	readonly #marker: Uint8Array;
	readonly #store: Buffer;

	// Stream.
	#active = false;
	#ssrc = 0;
	#started = false;
	#count = 0;
	#playSeq = 0;
	/** Extended timestamp the head should have (the last played one + a packet). */
	#playExt = 0;
	#highSeq = 0;
	#highTs = 0;
	/** Extended timestamp of the packet with the highest sequence number. */
	#highExt = 0;
	#tsHigh = 0;
	#extHigh = 0;
	#packetSamples: number;
	#lastStep = 0;
	/** RFC 3550 §A.1 probation: a far jump is taken when the next packet follows it. */
	#badSeq = -1;
	#missRun = 0;

	// Timing (ms).
	#jitter = 0;
	#prevTransit = Number.NaN;
	#baseCur = Number.POSITIVE_INFINITY;
	#basePrev = Number.POSITIVE_INFINITY;
	#windowStart = 0;
	#target: number;
	#lastPopMs = Number.NaN;

	constructor(opts: JitterBufferOptions) {
		const { clockRate, frameSamples } = opts;
		if (!Number.isInteger(clockRate) || clockRate <= 0) {
			throw new TypeError(`clockRate ${clockRate} must be a positive integer`);
		}
		if (!Number.isInteger(frameSamples) || frameSamples <= 0) {
			throw new TypeError(`frameSamples ${frameSamples} must be a positive integer`);
		}
		const minDelayMs = opts.minDelayMs ?? 20;
		const maxDelayMs = opts.maxDelayMs ?? 200;
		if (!(minDelayMs >= 0) || !(maxDelayMs >= minDelayMs) || !Number.isFinite(maxDelayMs)) {
			throw new RangeError(`delays must satisfy 0 ≤ minDelayMs (${minDelayMs}) ≤ maxDelayMs (${maxDelayMs})`);
		}
		const want = opts.capacity ?? 64;
		if (!Number.isInteger(want) || want < 4 || want > 4096) {
			throw new RangeError(`capacity ${want} must be an integer in [4, 4096]`);
		}
		let capacity = 4;
		while (capacity < want) {
			capacity <<= 1;
		}
		const maxPayload = opts.maxPayload ?? 1500;
		if (!Number.isInteger(maxPayload) || maxPayload <= 0 || maxPayload > 65535) {
			throw new RangeError(`maxPayload ${maxPayload} must be an integer in [1, 65535]`);
		}
		const jitterFactor = opts.jitterFactor ?? 4;
		if (!(jitterFactor >= 0) || !Number.isFinite(jitterFactor)) {
			throw new RangeError(`jitterFactor ${jitterFactor} must be ≥ 0`);
		}
		this.clockRate = clockRate;
		this.frameSamples = frameSamples;
		this.frameMs = (frameSamples * 1000) / clockRate;
		if (Math.ceil(maxDelayMs / this.frameMs) + 2 > capacity) {
			throw new RangeError(`capacity ${capacity} cannot hold maxDelayMs ${maxDelayMs} of ${this.frameMs} ms frames`);
		}
		this.minDelayMs = minDelayMs;
		this.maxDelayMs = maxDelayMs;
		this.capacity = capacity;
		this.maxPayload = maxPayload;
		this.jitterFactor = jitterFactor;
		this.#mask = capacity - 1;
		this.#msPerTick = 1000 / clockRate;
		this.#initialDelayMs = clamp(opts.initialDelayMs ?? 2 * this.frameMs, minDelayMs, maxDelayMs);
		this.#target = this.#initialDelayMs;
		this.#packetSamples = frameSamples;
		this.#state = new Uint8Array(capacity);
		this.#seq = new Int32Array(capacity);
		this.#ts = new Uint32Array(capacity);
		this.#ext = new Float64Array(capacity);
		this.#arrival = new Float64Array(capacity);
		this.#len = new Int32Array(capacity);
		this.#marker = new Uint8Array(capacity);
		this.#store = Buffer.alloc(capacity * maxPayload);
		this.stats = {
			delayMs: this.#target,
			playoutDelayMs: 0,
			waitMs: 0,
			jitterMs: 0,
			buffered: 0,
			late: 0,
			duplicates: 0,
			lost: 0,
			reorders: 0,
			resets: 0,
			overflows: 0,
			inserted: 0,
			dropped: 0,
			underruns: 0,
		};
	}

	/** Whether playout has started (pop() has handed out or concealed frames). */
	get started(): boolean {
		return this.#started;
	}

	/**
	 * Stores one RTP packet that arrived at `nowMs`. The payload (`len` bytes at
	 * `off`) is copied; `payload` may be reused right after.
	 *
	 * 'ok' stored; 'late' its frame was already played or concealed (or a
	 * sequence jump waits for confirmation); 'duplicate' already had it;
	 * 'overflow' stored, but older packets were discarded to make room (or
	 * not stored: longer than maxPayload); 'reset' a new stream began with
	 * this packet (new SSRC, a confirmed sequence jump, the timestamp going
	 * back): everything buffered was discarded.
	 */
	push(
		seq: number,
		ts: number,
		ssrc: number,
		marker: boolean,
		payload: Buffer,
		off: number,
		len: number,
		nowMs: number,
	): JitterPushResult {
		seq &= 0xffff;
		ts >>>= 0;
		ssrc >>>= 0;
		const stats = this.stats;
		if (!(len >= 0 && len <= this.maxPayload)) {
			stats.overflows++;
			return 'overflow';
		}
		let result: JitterPushResult = 'ok';
		if (!this.#active) {
			this.#begin(seq, ts, ssrc, nowMs);
		} else if (ssrc !== this.#ssrc) {
			this.#restart(seq, ts, ssrc, nowMs);
			result = 'reset';
		} else {
			const d = seqDiff(seq, this.#playSeq);
			if (d > MAX_DROPOUT || d < -MAX_MISORDER) {
				if (seq !== this.#badSeq) {
					this.#badSeq = (seq + 1) & 0xffff;
					stats.late++;
					return 'late';
				}
				this.#restart(seq, ts, ssrc, nowMs);
				result = 'reset';
			} else if (seqDiff(seq, this.#highSeq) === 1 && tsDiff(ts, this.#highTs) < 0) {
				// The next packet with an earlier timestamp: the sender restarted its clock.
				this.#restart(seq, ts, ssrc, nowMs);
				result = 'reset';
			}
		}
		this.#badSeq = -1;

		// Timing, for every packet of the stream (late ones carry the most news).
		const ext = this.#extend(ts);
		const transit = nowMs - ext * this.#msPerTick;
		if (this.#prevTransit === this.#prevTransit) {
			const d = transit - this.#prevTransit;
			this.#jitter += ((d < 0 ? -d : d) - this.#jitter) / 16;
		}
		this.#prevTransit = transit;
		const sinceWindow = nowMs - this.#windowStart;
		if (sinceWindow >= BASE_WINDOW_MS) {
			this.#basePrev = sinceWindow >= 2 * BASE_WINDOW_MS ? Number.POSITIVE_INFINITY : this.#baseCur;
			this.#baseCur = Number.POSITIVE_INFINITY;
			this.#windowStart = nowMs;
		}
		if (transit < this.#baseCur) {
			this.#baseCur = transit;
		}

		// Placement.
		let d = seqDiff(seq, this.#playSeq);
		if (d < 0) {
			if (this.#started || seqDiff(this.#highSeq, seq) >= this.capacity) {
				return this.#stale(seq);
			}
			// Before playout an earlier packet becomes the head.
			this.#playSeq = seq;
			d = 0;
		} else if (d >= this.capacity) {
			this.#advanceTo((seq - this.capacity + 1) & 0xffff, ext - (this.capacity - 1) * this.#packetSamples);
			if (result === 'ok') {
				result = 'overflow';
			}
		}
		const i = seq & this.#mask;
		const state = this.#state;
		if (state[i] === BUFFERED) {
			if (this.#seq[i] === seq) {
				stats.duplicates++;
				return 'duplicate';
			}
			// Cannot happen with the window above; keep the count right regardless.
			this.#count--;
		}
		state[i] = BUFFERED;
		this.#seq[i] = seq;
		this.#ts[i] = ts;
		this.#ext[i] = ext;
		this.#arrival[i] = nowMs;
		this.#len[i] = len;
		this.#marker[i] = marker ? 1 : 0;
		payload.copy(this.#store, i * this.maxPayload, off, off + len);
		this.#count++;
		stats.buffered = this.#count;

		const ahead = seqDiff(seq, this.#highSeq);
		if (ahead > 0) {
			if (ahead === 1 && !marker) {
				// The packet time, once two steps in a row agree (a silence gap
				// without a marker bit must not pass for a long packet).
				const step = tsDiff(ts, this.#highTs);
				if (step > 0 && step <= MAX_PACKET_FRAMES * this.frameSamples && step === this.#lastStep) {
					this.#packetSamples = step;
				}
				this.#lastStep = step;
			}
			this.#highSeq = seq;
			this.#highTs = ts;
			this.#highExt = ext;
		} else if (ahead < 0) {
			stats.reorders++;
		}
		return result;
	}

	/**
	 * One frame tick at `nowMs`. 'frame': the next packet in sequence, copied to
	 * `out`. 'missing': no packet this tick, conceal one frame (PLC, FEC from
	 * peek(), or repeat-and-fade) — a lost packet, a held tick that grows the
	 * delay, or the silence before a talkspurt. 'empty': nothing to play (before
	 * playout starts, after a reset, or idle for a while); play silence.
	 */
	pop(nowMs: number, out: JitterFrame): JitterPopResult {
		this.#adapt(nowMs);
		out.len = 0;
		out.marker = false;
		if (!this.#active || (!this.#started && this.#count === 0)) {
			return 'empty';
		}
		const base = this.#basePrev < this.#baseCur ? this.#basePrev : this.#baseCur;
		const target = this.#target;
		const half = this.frameMs / 2;
		const msPerTick = this.#msPerTick;
		const state = this.#state;
		const seqs = this.#seq;
		if (!this.#started) {
			const i = this.#playSeq & this.#mask;
			if (nowMs - base - this.#ext[i]! * msPerTick - target < -half) {
				return 'empty';
			}
			this.#started = true;
			this.#playExt = this.#ext[i]!;
			this.#missRun = 0;
		}
		const maxWait = this.maxDelayMs + half;
		let mayDrop = true;
		for (let guard = 0; guard <= this.capacity; guard++) {
			const i = this.#playSeq & this.#mask;
			if (state[i] === BUFFERED && seqs[i] === this.#playSeq) {
				const headExt = this.#ext[i]!;
				if (nowMs - this.#arrival[i]! > maxWait) {
					// Waited too long (we fell behind in a stall): never played.
					this.#drop(i, headExt);
					continue;
				}
				const due = nowMs - base - headExt * msPerTick - target;
				if (due < -half) {
					if ((headExt - this.#playExt) * msPerTick < half) {
						this.stats.inserted++;
					}
					return this.#hold(out);
				}
				// Behind schedule, and the buffer really holds more than the target
				// (not just a base gone stale after the path got slower).
				if (due > this.frameMs && this.#count > 1 && (this.#highExt - headExt) * msPerTick >= target) {
					const next = (this.#playSeq + 1) & 0xffff;
					const j = next & this.#mask;
					if (state[j] === BUFFERED && seqs[j] === next && (mayDrop || due + target > this.maxDelayMs)) {
						this.#drop(i, headExt);
						mayDrop = false;
						continue;
					}
				}
				return this.#emit(i, nowMs, base, out);
			}
			// The head has not come.
			if (this.#count > 0 && nowMs - base - this.#playExt * msPerTick - target >= -half) {
				state[i] = LOST;
				seqs[i] = this.#playSeq;
				this.stats.lost++;
				out.seq = this.#playSeq;
				out.ts = this.#tsOf(this.#playExt);
				this.#playSeq = (this.#playSeq + 1) & 0xffff;
				this.#playExt += this.#packetSamples;
				this.#missRun++;
				return 'missing';
			}
			if (this.#count === 0) {
				this.stats.underruns++;
			}
			return this.#hold(out);
		}
		return this.#hold(out);
	}

	/**
	 * Copies the packet at the head (the next one pop() will consider) into
	 * `out` without consuming it; false when it has not come. After a
	 * 'missing' for a lost packet this is the following packet, whose Opus
	 * in-band FEC can rebuild the lost frame.
	 */
	peek(out: JitterFrame): boolean {
		const i = this.#playSeq & this.#mask;
		if (!this.#active || this.#state[i] !== BUFFERED || this.#seq[i] !== this.#playSeq) {
			return false;
		}
		this.#copyOut(i, out);
		return true;
	}

	/** Forgets the stream (codec change, new remote); the delay target and jitter estimate stay. */
	reset(): void {
		this.#active = false;
		this.#started = false;
		this.#count = 0;
		this.#state.fill(EMPTY);
		this.stats.buffered = 0;
	}

	#begin(seq: number, ts: number, ssrc: number, nowMs: number): void {
		this.#state.fill(EMPTY);
		this.#active = true;
		this.#ssrc = ssrc;
		this.#started = false;
		this.#count = 0;
		this.#playSeq = seq;
		this.#playExt = 0;
		this.#highSeq = seq;
		this.#highTs = ts;
		this.#highExt = 0;
		this.#tsHigh = ts;
		this.#extHigh = 0;
		this.#packetSamples = this.frameSamples;
		this.#lastStep = 0;
		this.#missRun = 0;
		this.#prevTransit = Number.NaN;
		this.#baseCur = Number.POSITIVE_INFINITY;
		this.#basePrev = Number.POSITIVE_INFINITY;
		this.#windowStart = nowMs;
		this.stats.buffered = 0;
	}

	#restart(seq: number, ts: number, ssrc: number, nowMs: number): void {
		this.stats.resets++;
		this.#begin(seq, ts, ssrc, nowMs);
	}

	/** Unwraps a 32-bit timestamp against the highest one seen. */
	#extend(ts: number): number {
		const d = tsDiff(ts, this.#tsHigh);
		if (d > 0) {
			this.#extHigh += d;
			this.#tsHigh = ts;
			return this.#extHigh;
		}
		return this.#extHigh + d;
	}

	#tsOf(ext: number): number {
		return (this.#tsHigh + (ext - this.#extHigh)) >>> 0;
	}

	/** A packet behind the head: a duplicate of one we had, or late. */
	#stale(seq: number): JitterPushResult {
		const i = seq & this.#mask;
		const s = this.#state[i];
		if (this.#seq[i] === seq && (s === PLAYED || s === DROPPED)) {
			this.stats.duplicates++;
			return 'duplicate';
		}
		this.stats.late++;
		return 'late';
	}

	/** Moves the head forward to `seq`, discarding what is buffered before it. */
	#advanceTo(seq: number, extGuess: number): void {
		const n = Math.min(seqDiff(seq, this.#playSeq), this.capacity);
		const state = this.#state;
		for (let k = 0; k < n; k++) {
			const s = (this.#playSeq + k) & 0xffff;
			const i = s & this.#mask;
			if (state[i] === BUFFERED && this.#seq[i] === s) {
				state[i] = DROPPED;
				this.#count--;
				this.stats.overflows++;
			}
		}
		this.#playSeq = seq;
		const i = seq & this.#mask;
		this.#playExt = state[i] === BUFFERED && this.#seq[i] === seq ? this.#ext[i]! : extGuess;
		this.stats.buffered = this.#count;
	}

	#emit(i: number, nowMs: number, base: number, out: JitterFrame): JitterPopResult {
		this.#copyOut(i, out);
		this.#state[i] = PLAYED;
		this.#count--;
		const ext = this.#ext[i]!;
		this.#playSeq = (this.#playSeq + 1) & 0xffff;
		this.#playExt = ext + this.#packetSamples;
		this.#missRun = 0;
		this.stats.buffered = this.#count;
		this.stats.playoutDelayMs = nowMs - base - ext * this.#msPerTick;
		this.stats.waitMs = nowMs - this.#arrival[i]!;
		return 'frame';
	}

	#drop(i: number, ext: number): void {
		this.#state[i] = DROPPED;
		this.#count--;
		this.stats.dropped++;
		this.#playSeq = (this.#playSeq + 1) & 0xffff;
		this.#playExt = ext + this.#packetSamples;
	}

	#copyOut(i: number, out: JitterFrame): void {
		const len = this.#len[i]!;
		if (out.payload.length < len) {
			throw new RangeError(`JitterFrame payload of ${out.payload.length} bytes cannot take ${len}`);
		}
		const start = i * this.maxPayload;
		this.#store.copy(out.payload, 0, start, start + len);
		out.len = len;
		out.seq = this.#seq[i]!;
		out.ts = this.#ts[i]!;
		out.marker = this.#marker[i] === 1;
	}

	#hold(out: JitterFrame): JitterPopResult {
		this.#missRun++;
		out.seq = this.#playSeq;
		out.ts = this.#tsOf(this.#playExt);
		this.stats.buffered = this.#count;
		return this.#count === 0 && this.#missRun > CONCEAL_TICKS ? 'empty' : 'missing';
	}

	/** Moves the target towards k × jitter + frame: up at once, down slowly. */
	#adapt(nowMs: number): void {
		const desired = clamp(this.jitterFactor * this.#jitter + this.frameMs, this.minDelayMs, this.maxDelayMs);
		if (desired >= this.#target) {
			this.#target = desired;
		} else {
			const last = this.#lastPopMs;
			const dt = last === last ? clamp(nowMs - last, 0, 1000) : 0;
			const lowered = this.#target - dt * SHRINK_PER_MS;
			this.#target = lowered > desired ? lowered : desired;
		}
		this.#lastPopMs = nowMs;
		this.stats.delayMs = this.#target;
		this.stats.jitterMs = this.#jitter;
	}
}

function clamp(v: number, lo: number, hi: number): number {
	return v < lo ? lo : v > hi ? hi : v;
}
