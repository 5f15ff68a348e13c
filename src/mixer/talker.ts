/**
 * Talker detection: per-leg level and a talking / stopped-talking event pair.
 *
 * Levels are in dB re a full-scale sine (0 dBFS = a sine of amplitude 32767;
 * a full-scale square wave is +3 dBFS), floored at SILENCE_DB.
 *
 * Decisions use each frame's own level, with hysteresis in level and time:
 *
 *   level ≥ startDb for startMs in a row   → 'start' (if not talking)
 *   level < stopDb  for stopMs  in a row   → 'stop'  (if talking)
 *   stopDb ≤ level < startDb               → neither counter advances: the
 *                                            state holds, and both counters
 *                                            restart
 *
 * so a short click does not start a talker and the pauses between words do
 * not stop one. Every 'start' is followed by exactly one 'stop', from push()
 * or, when the leg leaves or moves to another room, from forceStop().
 *
 * `level` is smoothed (fast attack, slow release) for meters and for
 * selectLoudest(). No allocation.
 */

export const SILENCE_DB = -100;

/** Mean square of a full-scale sine: the 0 dBFS reference. */
const FULL_SCALE_POWER = (32767 * 32767) / 2;
/** Smoothing time constants of `level`. */
const ATTACK_MS = 10;
const RELEASE_MS = 200;

export interface TalkerDetectorOptions {
	/** Level at or above which a frame counts as speech; default -40 dBFS. */
	startDb?: number;
	/** Level below which a frame counts as silence; default -50 dBFS (≤ startDb). */
	stopDb?: number;
	/** Speech needed to start talking; default 60 ms. */
	startMs?: number;
	/** Silence needed to stop talking; default 600 ms. */
	stopMs?: number;
	/** Duration of one push()ed frame; default 20 ms. */
	frameMs?: number;
}

export type TalkerChange = 'start' | 'stop';

export class TalkerDetector {
	readonly startDb: number;
	readonly stopDb: number;
	readonly startMs: number;
	readonly stopMs: number;
	readonly frameMs: number;

	readonly #attack: number;
	readonly #release: number;
	#power = 0;
	#level = SILENCE_DB;
	#frameLevel = SILENCE_DB;
	#talking = false;
	#aboveMs = 0;
	#belowMs = 0;

	constructor(opts: TalkerDetectorOptions = {}) {
		const startDb = opts.startDb ?? -40;
		const stopDb = opts.stopDb ?? -50;
		const startMs = opts.startMs ?? 60;
		const stopMs = opts.stopMs ?? 600;
		const frameMs = opts.frameMs ?? 20;
		if (!Number.isFinite(startDb) || !Number.isFinite(stopDb) || stopDb > startDb) {
			throw new RangeError(`need stopDb (${stopDb}) ≤ startDb (${startDb})`);
		}
		if (!(startMs >= 0) || !(stopMs >= 0) || !Number.isFinite(startMs) || !Number.isFinite(stopMs)) {
			throw new RangeError('startMs and stopMs must be ≥ 0');
		}
		if (!(frameMs > 0) || !Number.isFinite(frameMs)) {
			throw new RangeError(`frameMs ${frameMs} must be > 0`);
		}
		this.startDb = startDb;
		this.stopDb = stopDb;
		this.startMs = startMs;
		this.stopMs = stopMs;
		this.frameMs = frameMs;
		this.#attack = 1 - Math.exp(-frameMs / ATTACK_MS);
		this.#release = 1 - Math.exp(-frameMs / RELEASE_MS);
	}

	/** Smoothed level (dBFS). */
	get level(): number {
		return this.#level;
	}

	/** Level of the last frame alone (dBFS). */
	get frameLevel(): number {
		return this.#frameLevel;
	}

	get talking(): boolean {
		return this.#talking;
	}

	/** Feeds one frame (`n` samples from index 0); returns the change it caused, if any. */
	push(frame: Int16Array, n: number): TalkerChange | null {
		let sum = 0;
		const len = n < frame.length ? n : frame.length;
		for (let i = 0; i < len; i++) {
			const x = frame[i]!;
			sum += x * x;
		}
		const power = len > 0 ? sum / len : 0;
		const a = power > this.#power ? this.#attack : this.#release;
		this.#power += (power - this.#power) * a;
		this.#level = toDb(this.#power);
		const db = toDb(power);
		this.#frameLevel = db;

		if (db >= this.startDb) {
			this.#belowMs = 0;
			this.#aboveMs += this.frameMs;
		} else if (db < this.stopDb) {
			this.#aboveMs = 0;
			this.#belowMs += this.frameMs;
		} else {
			this.#aboveMs = 0;
			this.#belowMs = 0;
		}
		if (!this.#talking && this.#aboveMs >= this.startMs && this.#aboveMs > 0) {
			this.#talking = true;
			this.#belowMs = 0;
			return 'start';
		}
		if (this.#talking && this.#belowMs >= this.stopMs && this.#belowMs > 0) {
			this.#talking = false;
			this.#aboveMs = 0;
			return 'stop';
		}
		return null;
	}

	/**
	 * Ends talking now (the leg leaves the room or moves): true when a 'stop'
	 * must be emitted to pair an earlier 'start'. Levels and counters reset.
	 */
	forceStop(): boolean {
		const was = this.#talking;
		this.#talking = false;
		this.#aboveMs = 0;
		this.#belowMs = 0;
		this.#power = 0;
		this.#level = SILENCE_DB;
		this.#frameLevel = SILENCE_DB;
		return was;
	}
}

function toDb(power: number): number {
	if (power <= 0) {
		return SILENCE_DB;
	}
	const db = 10 * Math.log10(power / FULL_SCALE_POWER);
	return db > SILENCE_DB ? db : SILENCE_DB;
}

/**
 * Marks in `out` the `k` loudest active legs among the first `count`:
 * out[i] = 1 selected, 0 not. `levels[i]` is leg i's smoothed level, or
 * -Infinity (or NaN) when leg i is not talking; inactive legs are never
 * selected, so fewer than k may be marked.
 *
 * Hysteresis: `out` is read as the previous frame's selection, and a leg
 * selected then ranks as if `hysteresisDb` louder. A newcomer therefore
 * replaces a selected talker only when louder by more than hysteresisDb, and
 * two talkers at about the same level do not swap every frame. Ties go to the
 * lower index. Pass a zeroed `out` for the first frame. O(count × k), no
 * allocation.
 */
export function selectLoudest(levels: Float32Array, count: number, k: number, out: Uint8Array, hysteresisDb = 3): void {
	if (!Number.isInteger(count) || count < 0 || count > levels.length || count > out.length) {
		throw new RangeError(`count ${count} exceeds levels (${levels.length}) or out (${out.length})`);
	}
	// bit 0: selected last frame; bit 1: picked now.
	for (let i = 0; i < count; i++) {
		out[i] = out[i] === 1 ? 1 : 0;
	}
	for (let pick = 0; pick < k; pick++) {
		let best = -1;
		let bestValue = Number.NEGATIVE_INFINITY;
		for (let i = 0; i < count; i++) {
			const o = out[i]!;
			const level = levels[i]!;
			if ((o & 2) !== 0 || !(level > Number.NEGATIVE_INFINITY)) {
				continue;
			}
			const value = (o & 1) !== 0 ? level + hysteresisDb : level;
			if (value > bestValue) {
				best = i;
				bestValue = value;
			}
		}
		if (best < 0) {
			break;
		}
		out[best] = out[best]! | 2;
	}
	for (let i = 0; i < count; i++) {
		out[i] = out[i]! >> 1;
	}
}
