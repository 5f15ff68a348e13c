/**
 * ITU-T G.722 at 64 kbit/s (mode 1): sub-band ADPCM.
 *
 *   16 kHz PCM ─► QMF analysis ─┬─► lower band, 8 kHz ─► 6-bit ADPCM ─┐
 *                               └─► upper band, 8 kHz ─► 2-bit ADPCM ─┴─► 1 byte per 2 samples
 *
 * Each byte is (ihigh << 6) | ilow. The arithmetic follows the fixed-point
 * block functions of the Recommendation (SUBTRA, QUANTL/H, INVQAL/H, LOGSCL/H,
 * SCALEL/H, and block 4: RECONS, PARREC, UPPOL1/2, UPZERO, FILTEP, FILTEZ,
 * PREDIC), so the bit stream interoperates with other implementations; the
 * unit test checks it bit for bit against spandsp when that library is present.
 *
 * Input samples are 16-bit; the algorithm itself works on 15-bit values, which
 * the QMF shifts account for (>> 14 on analysis, >> 11 on synthesis).
 *
 * RTP: static payload type 9; SDP says `G722/8000` although the audio is
 * 16 kHz, an error kept in RFC 3551 for compatibility, so RTP timestamps
 * advance by 8000 per second (160 per 20 ms packet of 320 samples).
 *
 * Encoder and decoder keep all state in the instance and allocate nothing per
 * call.
 */

export const G722_PAYLOAD_TYPE = 9;
/** The rate SDP and RTP timestamps use (RFC 3551 §4.5.2), not the audio rate. */
export const G722_RTP_CLOCK_RATE = 8000;
export const G722_SAMPLE_RATE = 16000;

// QMF coefficients h0..h11; the 24-tap filter is symmetric, so the other half
// is this table reversed. DC gain 4096.
const QMF = Int32Array.of(3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11);
const QMF_REV = Int32Array.from(QMF).reverse();

// QUANTL decision levels for the 6-bit lower-band quantizer (magnitude part),
// scaled by DETL >> 12 at run time. Index 0 and 30+ are sentinels.
const Q6 = Int32Array.of(
	0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714,
	786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0,
);
// Interval index → 6-bit code, for negative and positive differences.
const ILN = Int32Array.of(
	0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19,
	18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0,
);
const ILP = Int32Array.of(
	0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47,
	46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 0,
);

// Inverse quantizer outputs: 6-bit (decoder output), 4-bit (lower-band
// predictor feedback, so encoder and decoder agree whatever the bit rate) and
// 2-bit (upper band).
const QM6 = Int32Array.of(
	-136, -136, -136, -136, -24808, -21904, -19008, -16704,
	-14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
	-7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
	-3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
	24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
	10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
	4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
	1688, 1360, 1040, 728, 432, 136, -432, -136,
);
const QM4 = Int32Array.of(
	0, -20456, -12896, -8968, -6288, -4240, -2584, -1200,
	20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
);
const QM2 = Int32Array.of(-7408, -1616, 7408, 1616);

// LOGSCL/LOGSCH: 4-bit code → magnitude class → log scale factor increment.
const RL42 = Int32Array.of(0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0);
const WL = Int32Array.of(-60, -30, 58, 172, 334, 538, 1198, 3042);
const RH2 = Int32Array.of(2, 1, 2, 1);
const WH = Int32Array.of(0, -214, 798);

// SCALEL/SCALEH: antilog table, 2^(i/32) scaled by 2048.
const ILB = Int32Array.of(
	2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
	2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
);

const NBL_MAX = 18432;
const NBH_MAX = 22528;

function sat16(x: number): number {
	return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

function sat15(x: number): number {
	return x > 16383 ? 16383 : x < -16384 ? -16384 : x;
}

/** SCALEL/SCALEH: log scale factor → linear step size DET. */
function scale(nb: number, shift: number): number {
	const wd1 = ILB[(nb >> 6) & 31] as number;
	const wd2 = shift - (nb >> 11);
	return (wd2 < 0 ? wd1 << -wd2 : wd1 >> wd2) << 2;
}

/**
 * Adaptive predictor state of one sub-band: a pole section of order 2 and a
 * zero section of order 6 (block 4 of the Recommendation).
 */
class Band {
	/** Predictor output SL/SH: the estimate subtracted from the next sample. */
	s = 0;
	/** Zero-section output SZ. */
	sz = 0;
	/** Reconstructed signal R, one sample back. */
	r = 0;
	/** Partially reconstructed signal P, one and two samples back. */
	p1 = 0;
	p2 = 0;
	/** Pole coefficients A1, A2. */
	a1 = 0;
	a2 = 0;
	/** Log scale factor NB and linear step size DET. */
	nb = 0;
	det: number;
	/** Quantized differences, d[i] is i+1 samples back. */
	readonly d = new Int32Array(6);
	/** Zero coefficients B1..B6. */
	readonly b = new Int32Array(6);

	constructor(det: number) {
		this.det = det;
	}

	/** Block 4: reconstruct, adapt the predictor to dq and compute the next estimate. */
	adapt(dq: number): void {
		// RECONS, PARREC
		const r = sat16(this.s + dq);
		const p = sat16(this.sz + dq);

		// UPPOL2. Sign comparisons use xor < 0 on sign-extended int16 values;
		// zero counts as positive, as in the Recommendation. `0 - x` rather than
		// `-x` keeps -0 (a double) out of the integer arithmetic.
		const wd1 = sat16(this.a1 * 4);
		let wd2 = (p ^ this.p1) < 0 ? wd1 : 0 - wd1;
		if (wd2 > 32767) {
			wd2 = 32767;
		}
		let a2 = ((p ^ this.p2) < 0 ? -128 : 128) + (wd2 >> 7) + ((this.a2 * 32512) >> 15);
		if (a2 > 12288) {
			a2 = 12288;
		} else if (a2 < -12288) {
			a2 = -12288;
		}

		// UPPOL1, with the stability limit |A1| <= 1 - 2^-4 - A2.
		let a1 = sat16(((p ^ this.p1) < 0 ? -192 : 192) + ((this.a1 * 32640) >> 15));
		const lim = sat16(15360 - a2);
		if (a1 > lim) {
			a1 = lim;
		} else if (a1 < -lim) {
			a1 = -lim;
		}

		// FILTEP with the new coefficients and the delayed R.
		const sp = sat16(((a1 * sat16(r + r)) >> 15) + ((a2 * sat16(this.r + this.r)) >> 15));
		this.r = r;
		this.a1 = a1;
		this.a2 = a2;
		this.p2 = this.p1;
		this.p1 = p;

		// UPZERO (sign-sign LMS with leakage), DELAYA and FILTEZ in one pass from
		// the oldest tap: each coefficient adapts on the sign of its old delayed
		// difference, then filters the shifted line. Each product is truncated
		// on its own, as in the Recommendation.
		const d = this.d;
		const b = this.b;
		const g = dq === 0 ? 0 : 128;
		let sz = 0;
		for (let i = 5; i >= 0; i--) {
			const bi = sat16((((d[i] as number) ^ dq) < 0 ? 0 - g : g) + (((b[i] as number) * 32640) >> 15));
			b[i] = bi;
			const di = i === 0 ? dq : (d[i - 1] as number);
			d[i] = di;
			sz += (bi * sat16(di + di)) >> 15;
		}
		this.sz = sat16(sz);

		// PREDIC
		this.s = sat16(sp + this.sz);
	}
}

export class G722Encoder {
	readonly #low = new Band(32);
	readonly #high = new Band(8);
	// QMF history, each sample written twice (at i and i + 12) so the 12 most
	// recent values are always contiguous: a ring without a modulo per tap.
	readonly #xa = new Int32Array(24);
	readonly #xb = new Int32Array(24);
	#pos = 0;

	/**
	 * Encodes n samples of 16 kHz PCM (n even) into n / 2 bytes at out[outOff].
	 * Returns the number of bytes written.
	 */
	encode(pcm: Int16Array, off: number, n: number, out: Uint8Array, outOff: number): number {
		if ((n & 1) !== 0 || off < 0 || off + n > pcm.length || outOff < 0 || outOff + (n >> 1) > out.length) {
			throw new RangeError(`G.722 encode: bad range (off ${off}, n ${n}, outOff ${outOff})`);
		}
		const low = this.#low;
		const high = this.#high;
		const xa = this.#xa;
		const xb = this.#xb;
		let pos = this.#pos;
		let o = outOff;
		for (let j = off, end = off + n; j < end; j += 2) {
			// Transmit QMF: the even-phase and odd-phase filters, then their sum
			// and difference split the band at 4 kHz.
			const s0 = pcm[j] as number;
			const s1 = pcm[j + 1] as number;
			xa[pos] = s0;
			xa[pos + 12] = s0;
			xb[pos] = s1;
			xb[pos + 12] = s1;
			pos = pos === 11 ? 0 : pos + 1;
			// Oldest first: window is [pos, pos + 12).
			let sumA = 0;
			let sumB = 0;
			for (let i = 0; i < 12; i++) {
				sumA += (xa[pos + i] as number) * (QMF[i] as number);
				sumB += (xb[pos + i] as number) * (QMF_REV[i] as number);
			}
			const xlow = (sumB + sumA) >> 14;
			const xhigh = (sumB - sumA) >> 14;

			// Lower band. SUBTRA, QUANTL: find the first decision level above |el|.
			const el = sat16(xlow - low.s);
			const mag = el >= 0 ? el : ~el;
			const det = low.det;
			let lo = 1;
			let hi = 30;
			while (lo < hi) {
				// Levels grow with the index, so a binary search finds the same
				// interval as the Recommendation's linear scan.
				const mid = (lo + hi) >> 1;
				if (mag < (((Q6[mid] as number) * det) >> 12)) {
					hi = mid;
				} else {
					lo = mid + 1;
				}
			}
			const ilow = (el < 0 ? ILN[lo] : ILP[lo]) as number;
			// INVQAL on the 4 most significant bits, LOGSCL, SCALEL, block 4.
			const ril = ilow >> 2;
			const dlow = ((QM4[ril] as number) * det) >> 15;
			low.nb = clampNb(((low.nb * 127) >> 7) + (WL[RL42[ril] as number] as number), NBL_MAX);
			low.det = scale(low.nb, 8);
			low.adapt(dlow);

			// Upper band. SUBTRA, QUANTH (one decision level), INVQAH, LOGSCH, SCALEH.
			const eh = sat16(xhigh - high.s);
			const hmag = eh >= 0 ? eh : ~eh;
			const big = hmag >= ((564 * high.det) >> 12);
			const ihigh = eh < 0 ? (big ? 0 : 1) : big ? 2 : 3;
			const dhigh = ((QM2[ihigh] as number) * high.det) >> 15;
			high.nb = clampNb(((high.nb * 127) >> 7) + (WH[RH2[ihigh] as number] as number), NBH_MAX);
			high.det = scale(high.nb, 10);
			high.adapt(dhigh);

			out[o++] = (ihigh << 6) | ilow;
		}
		this.#pos = pos;
		return o - outOff;
	}

	reset(): void {
		resetBand(this.#low, 32);
		resetBand(this.#high, 8);
		this.#xa.fill(0);
		this.#xb.fill(0);
		this.#pos = 0;
	}
}

export class G722Decoder {
	readonly #low = new Band(32);
	readonly #high = new Band(8);
	readonly #xa = new Int32Array(24);
	readonly #xb = new Int32Array(24);
	#pos = 0;

	/**
	 * Decodes len bytes into 2 * len samples of 16 kHz PCM at out[outOff].
	 * Returns the number of samples written.
	 */
	decode(data: Uint8Array, off: number, len: number, out: Int16Array, outOff: number): number {
		if (off < 0 || len < 0 || off + len > data.length || outOff < 0 || outOff + 2 * len > out.length) {
			throw new RangeError(`G.722 decode: bad range (off ${off}, len ${len}, outOff ${outOff})`);
		}
		const low = this.#low;
		const high = this.#high;
		const xa = this.#xa;
		const xb = this.#xb;
		let pos = this.#pos;
		let o = outOff;
		for (let j = off, end = off + len; j < end; j++) {
			const code = data[j] as number;
			const ilow = code & 0x3f;
			const ihigh = code >> 6;

			// Lower band. INVQBL with all 6 bits gives the output; the predictor
			// adapts on the 4-bit INVQAL value, exactly as in the encoder.
			const det = low.det;
			const rlow = sat15(low.s + (((QM6[ilow] as number) * det) >> 15));
			const ril = ilow >> 2;
			const dlow = ((QM4[ril] as number) * det) >> 15;
			low.nb = clampNb(((low.nb * 127) >> 7) + (WL[RL42[ril] as number] as number), NBL_MAX);
			low.det = scale(low.nb, 8);
			low.adapt(dlow);

			// Upper band. INVQAH, RECONS, LIMIT, LOGSCH, SCALEH.
			const dhigh = ((QM2[ihigh] as number) * high.det) >> 15;
			const rhigh = sat15(high.s + dhigh);
			high.nb = clampNb(((high.nb * 127) >> 7) + (WH[RH2[ihigh] as number] as number), NBH_MAX);
			high.det = scale(high.nb, 10);
			high.adapt(dhigh);

			// Receive QMF: sum and difference feed the two phase filters, which
			// give the two output samples of this pair.
			const sum = rlow + rhigh;
			const diff = rlow - rhigh;
			xa[pos] = sum;
			xa[pos + 12] = sum;
			xb[pos] = diff;
			xb[pos + 12] = diff;
			pos = pos === 11 ? 0 : pos + 1;
			let out0 = 0;
			let out1 = 0;
			for (let i = 0; i < 12; i++) {
				out0 += (xb[pos + i] as number) * (QMF_REV[i] as number);
				out1 += (xa[pos + i] as number) * (QMF[i] as number);
			}
			// Saturated: spandsp 0.0.6 wraps here, which turns clipping into clicks.
			out[o++] = sat16(out0 >> 11);
			out[o++] = sat16(out1 >> 11);
		}
		this.#pos = pos;
		return o - outOff;
	}

	reset(): void {
		resetBand(this.#low, 32);
		resetBand(this.#high, 8);
		this.#xa.fill(0);
		this.#xb.fill(0);
		this.#pos = 0;
	}
}

function clampNb(nb: number, max: number): number {
	return nb < 0 ? 0 : nb > max ? max : nb;
}

function resetBand(b: Band, det: number): void {
	b.s = 0;
	b.sz = 0;
	b.r = 0;
	b.p1 = 0;
	b.p2 = 0;
	b.a1 = 0;
	b.a2 = 0;
	b.nb = 0;
	b.det = det;
	b.d.fill(0);
	b.b.fill(0);
}
