/**
 * Sample-rate conversion by an integer ratio (8000 ↔ 16000 ↔ 48000 Hz: 2, 3, 6),
 * with a polyphase windowed-sinc FIR.
 *
 * One prototype low-pass filter runs at the higher rate, with its cutoff below
 * the lower rate's Nyquist frequency so that downsampling does not alias and
 * upsampling removes the spectral images. It has TAPS_PER_PHASE * ratio taps
 * and a Kaiser window (beta 8, about 80 dB of stopband).
 *
 * - Up by L: each input sample gives L outputs, output phase j using every
 *   L-th tap starting at j (TAPS_PER_PHASE taps each).
 * - Down by M: one output per M inputs, using all taps; the phase within the
 *   current group of M is kept between calls.
 *
 * The input history lives in the instance, so consecutive calls are seamless:
 * chunked processing gives the same samples as one call on the whole buffer,
 * with a constant delay of (taps - 1) / 2 samples at the higher rate (about
 * 3 ms). A 20 ms frame in gives exactly a 20 ms frame out. Nothing is
 * allocated per call.
 */

/** Taps per polyphase branch (a multiple of 4, see dot()): sets the transition width, about 0.1 × the lower rate. */
const TAPS_PER_PHASE = 48;
/** Kaiser window beta: about 80 dB stopband attenuation. */
const KAISER_BETA = 8;
/**
 * Cutoff (-6 dB) as a fraction of the lower rate. With the transition band
 * this is flat to about 0.40 (3.2 kHz at 8 kHz, -0.8 dB at 3.4 kHz), about
 * 60 dB down at the lower rate's Nyquist frequency and fully down just above.
 */
const CUTOFF = 0.45;

export class Resampler {
	readonly fromRate: number;
	readonly toRate: number;
	/** Upsampling factor L (1 when downsampling or equal). */
	readonly #up: number;
	/** Downsampling factor M (1 when upsampling or equal). */
	readonly #down: number;
	/** Window length in input samples. */
	readonly #len: number;
	/** Coefficients: up: L branches of len taps each; down: one of len taps. Oldest-first order. */
	readonly #coef: Float64Array;
	// Input history, each sample written twice (at i and i + len) so the last
	// len inputs are always contiguous at [pos, pos + len): a ring without a
	// modulo per tap.
	readonly #hist: Float64Array;
	#pos = 0;
	/** Downsampling: inputs taken since the last output. */
	#phase = 0;

	constructor(fromRate: number, toRate: number) {
		if (!Number.isInteger(fromRate) || !Number.isInteger(toRate) || fromRate <= 0 || toRate <= 0) {
			throw new RangeError(`Resampler: bad rates ${fromRate} → ${toRate}`);
		}
		const hiRate = Math.max(fromRate, toRate);
		const loRate = Math.min(fromRate, toRate);
		if (hiRate % loRate !== 0) {
			throw new RangeError(`Resampler: ${fromRate} → ${toRate} is not an integer ratio`);
		}
		this.fromRate = fromRate;
		this.toRate = toRate;
		const ratio = hiRate / loRate;
		this.#up = toRate > fromRate ? ratio : 1;
		this.#down = fromRate > toRate ? ratio : 1;
		if (ratio === 1) {
			this.#len = 0;
			this.#coef = new Float64Array(0);
			this.#hist = new Float64Array(0);
			return;
		}
		const proto = lowPass(ratio * TAPS_PER_PHASE, CUTOFF / ratio);
		if (this.#up > 1) {
			// Branch j holds taps j, j + L, j + 2L, … scaled by L (zero stuffing
			// loses that gain), reversed so the dot product runs oldest-first.
			const L = this.#up;
			this.#len = TAPS_PER_PHASE;
			this.#coef = new Float64Array(L * TAPS_PER_PHASE);
			for (let j = 0; j < L; j++) {
				for (let t = 0; t < TAPS_PER_PHASE; t++) {
					this.#coef[j * TAPS_PER_PHASE + t] = L * (proto[j + (TAPS_PER_PHASE - 1 - t) * L] as number);
				}
			}
		} else {
			this.#len = proto.length;
			this.#coef = proto.reverse();
		}
		this.#hist = new Float64Array(2 * this.#len);
	}

	/** Output samples for n input samples from the current state. */
	outputLength(n: number): number {
		if (this.#up > 1) {
			return n * this.#up;
		}
		return Math.floor((this.#phase + n) / this.#down);
	}

	/**
	 * Resamples n samples from input[inOff] into out[outOff]. Returns the
	 * number of samples written: n * L up, n / M down (n a multiple of M, or
	 * the carried phase decides).
	 */
	process(input: Int16Array, inOff: number, n: number, out: Int16Array, outOff: number): number {
		const count = this.outputLength(n);
		if (n < 0 || inOff < 0 || inOff + n > input.length || outOff < 0 || outOff + count > out.length) {
			throw new RangeError(`Resampler: bad range (inOff ${inOff}, n ${n}, outOff ${outOff})`);
		}
		if (this.#len === 0) {
			for (let i = 0; i < n; i++) {
				out[outOff + i] = input[inOff + i] as number;
			}
			return n;
		}
		return this.#up > 1 ? this.#upsample(input, inOff, n, out, outOff) : this.#downsample(input, inOff, n, out, outOff);
	}

	/** Clears the history, as for a new stream. */
	reset(): void {
		this.#hist.fill(0);
		this.#pos = 0;
		this.#phase = 0;
	}

	#upsample(input: Int16Array, inOff: number, n: number, out: Int16Array, outOff: number): number {
		const L = this.#up;
		const len = this.#len;
		const coef = this.#coef;
		const hist = this.#hist;
		let pos = this.#pos;
		let o = outOff;
		for (let i = 0; i < n; i++) {
			const x = input[inOff + i] as number;
			hist[pos] = x;
			hist[pos + len] = x;
			pos = pos + 1 === len ? 0 : pos + 1;
			for (let j = 0, c = 0; j < L; j++, c += len) {
				out[o++] = toInt16(dot(hist, pos, coef, c, len));
			}
		}
		this.#pos = pos;
		return o - outOff;
	}

	#downsample(input: Int16Array, inOff: number, n: number, out: Int16Array, outOff: number): number {
		const M = this.#down;
		const len = this.#len;
		const coef = this.#coef;
		const hist = this.#hist;
		let pos = this.#pos;
		let phase = this.#phase;
		let o = outOff;
		for (let i = 0; i < n; i++) {
			const x = input[inOff + i] as number;
			hist[pos] = x;
			hist[pos + len] = x;
			pos = pos + 1 === len ? 0 : pos + 1;
			if (++phase === M) {
				phase = 0;
				out[o++] = toInt16(dot(hist, pos, coef, 0, len));
			}
		}
		this.#pos = pos;
		this.#phase = phase;
		return o - outOff;
	}
}

/**
 * Σ x[xi + t] · c[ci + t] for t < len (len a multiple of 4). Four partial sums
 * break the chain of dependent additions, which otherwise bounds the speed.
 */
function dot(x: Float64Array, xi: number, c: Float64Array, ci: number, len: number): number {
	let a0 = 0;
	let a1 = 0;
	let a2 = 0;
	let a3 = 0;
	for (let t = 0; t < len; t += 4) {
		a0 += (x[xi + t] as number) * (c[ci + t] as number);
		a1 += (x[xi + t + 1] as number) * (c[ci + t + 1] as number);
		a2 += (x[xi + t + 2] as number) * (c[ci + t + 2] as number);
		a3 += (x[xi + t + 3] as number) * (c[ci + t + 3] as number);
	}
	return a0 + a1 + (a2 + a3);
}

function toInt16(x: number): number {
	// Nearest integer, saturated: a full-scale input can ring slightly past the rails.
	const r = Math.round(x);
	return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

/**
 * Kaiser-windowed sinc low-pass of n taps, cutoff fc as a fraction of the
 * sample rate, normalized to unity gain at DC.
 */
function lowPass(n: number, fc: number): Float64Array {
	const h = new Float64Array(n);
	const mid = (n - 1) / 2;
	const i0beta = besselI0(KAISER_BETA);
	let sum = 0;
	for (let k = 0; k < n; k++) {
		const x = k - mid;
		const sinc = x === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * x) / (Math.PI * x);
		const r = (2 * k) / (n - 1) - 1;
		const w = besselI0(KAISER_BETA * Math.sqrt(Math.max(0, 1 - r * r))) / i0beta;
		h[k] = sinc * w;
		sum += h[k] as number;
	}
	for (let k = 0; k < n; k++) {
		h[k] = (h[k] as number) / sum;
	}
	return h;
}

/** Modified Bessel function of the first kind, order 0 (power series). */
function besselI0(x: number): number {
	let sum = 1;
	let term = 1;
	const q = (x * x) / 4;
	for (let k = 1; k < 50; k++) {
		term *= q / (k * k);
		sum += term;
		if (term < sum * 1e-17) {
			break;
		}
	}
	return sum;
}
