export interface ConcealerOptions {
	/** Attenuation per consecutive concealed frame; default 6 dB. */
	fadeDb?: number;
	/** Concealed frames before silence; default 5 (the last one fades to zero). */
	maxFrames?: number;
}

/**
 * Packet loss concealment for PCM codecs without their own (G.711, G.722):
 * repeat the last good frame with a falling gain.
 *
 *   gain  1 ─┐
 *            └─┐ -6 dB            the k-th concealed frame ramps linearly
 *              └─┐ -12 dB         from g(k-1) to g(k) = 10^(-fadeDb·k/20),
 *                └─┐ …            the maxFrames-th down to 0; silence after.
 *                  └── 0
 *
 * The repeats alternate backwards and forwards (a mirror, not a loop), so
 * each repeat starts on the sample the previous one ended with: no click at
 * frame borders and no buzz at the frame rate. good() with the next real
 * frame ends the concealment. Allocates only in the constructor.
 */
export class Concealer {
	readonly frameSamples: number;
	readonly maxFrames: number;
	readonly #last: Int16Array;
	readonly #gains: Float64Array;
	#lastLen = 0;
	#run = 0;
	#phase = 0;

	constructor(frameSamples: number, opts: ConcealerOptions = {}) {
		if (!Number.isInteger(frameSamples) || frameSamples <= 0) {
			throw new TypeError(`frameSamples ${frameSamples} must be a positive integer`);
		}
		const fadeDb = opts.fadeDb ?? 6;
		const maxFrames = opts.maxFrames ?? 5;
		if (!(fadeDb >= 0) || !Number.isFinite(fadeDb)) {
			throw new RangeError(`fadeDb ${fadeDb} must be ≥ 0`);
		}
		if (!Number.isInteger(maxFrames) || maxFrames < 1) {
			throw new RangeError(`maxFrames ${maxFrames} must be a positive integer`);
		}
		this.frameSamples = frameSamples;
		this.maxFrames = maxFrames;
		this.#last = new Int16Array(frameSamples);
		this.#gains = new Float64Array(maxFrames + 1);
		for (let k = 0; k < maxFrames; k++) {
			this.#gains[k] = 10 ** ((-fadeDb * k) / 20);
		}
		this.#gains[maxFrames] = 0;
	}

	/** Consecutive frames concealed since the last good one. */
	get run(): number {
		return this.#run;
	}

	/** Records a good frame (`n` samples at `off`, at most frameSamples) and ends any concealment. */
	good(frame: Int16Array, off: number, n: number): void {
		const len = n < this.frameSamples ? n : this.frameSamples;
		this.#last.set(frame.subarray(off, off + len));
		this.#lastLen = len;
		this.#run = 0;
		this.#phase = 0;
	}

	/** Forgets the last frame: concealment gives silence until the next good(). */
	reset(): void {
		this.#lastLen = 0;
		this.#run = 0;
		this.#phase = 0;
	}

	/** Writes one concealment frame of `n` samples at `off`. */
	conceal(out: Int16Array, off: number, n: number): void {
		const run = ++this.#run;
		const len = this.#lastLen;
		if (len === 0 || run > this.maxFrames) {
			out.fill(0, off, off + n);
			return;
		}
		const g0 = this.#gains[run - 1]!;
		const step = (this.#gains[run]! - g0) / n;
		const last = this.#last;
		const period = 2 * len;
		// Position in the mirrored sequence: [0, len) backwards from the end, [len, 2len) forwards.
		let p = this.#phase;
		for (let i = 0; i < n; i++) {
			const v = last[p < len ? len - 1 - p : p - len]! * (g0 + step * i);
			out[off + i] = v < 0 ? Math.ceil(v) : Math.floor(v);
			if (++p === period) {
				p = 0;
			}
		}
		this.#phase = p;
	}
}
