/**
 * In-band DTMF detection (ITU-T Q.23/Q.24 tones) for PCM from G.711 legs.
 *
 *            1209  1336  1477  1633 Hz
 *     697      1     2     3     A
 *     770      4     5     6     B
 *     852      7     8     9     C
 *     941      *     0     #     D
 *
 * The audio is cut into 20 ms blocks (160 samples at 8 kHz: 50 Hz Goertzel
 * resolution, which keeps the leakage into a neighbouring row below -13 dB).
 * Per block, twelve Goertzel filters (the 8 tones and the 2nd harmonics of
 * the 4 column tones) and the block energy decide whether the block holds a
 * digit. All of these must hold:
 *
 *   level       row and column tone each ≥ MIN_TONE_DBFS
 *   twist       normal (column weaker) ≤ 8 dB, reverse (column stronger) ≤ 4 dB
 *   peaks       the strongest row beats every other row by RELATIVE_PEAK_DB,
 *               the strongest column every other column likewise
 *   harmonic    the column's 2nd harmonic is HARMONIC_DB below it (a voiced
 *               sound with a partial on a column tone has one at twice it too)
 *   purity      the two tones carry ≥ ENERGY_RATIO of the block's energy:
 *               speech and music spread their energy over many partials
 *
 * A digit is reported once it holds in MIN_BLOCKS blocks in a row (40 ms),
 * and the same digit again only after GAP_BLOCKS blocks without it (40 ms:
 * one bad block inside a long press does not give a second digit). A block
 * half filled with tone has about half its energy off the two tones, so the
 * blocks at the edges of a press rarely count and a 30 ms burst never
 * reaches two. Allocates only in the constructor.
 */

const ROW_FREQS = [697, 770, 852, 941] as const;
const COL_FREQS = [1209, 1336, 1477, 1633] as const;
const KEYPAD = '123A456B789C*0#D';

/** Weakest tone accepted, in dB re a full-scale sine (about -45 dBm0 on μ-law). */
export const MIN_TONE_DBFS = -42;
/** Row louder than column (the usual case on a line). */
export const MAX_NORMAL_TWIST_DB = 8;
/** Column louder than row. */
export const MAX_REVERSE_TWIST_DB = 4;
export const RELATIVE_PEAK_DB = 8;
export const HARMONIC_DB = 10;
/** Share of the block energy the two tones must carry. */
export const ENERGY_RATIO = 0.8;
export const MIN_BLOCKS = 2;
export const GAP_BLOCKS = 2;

/** Filters: 0-3 rows, 4-7 columns, 8-11 column 2nd harmonics. */
const FILTERS = 12;

function dbToPower(db: number): number {
	return 10 ** (db / 10);
}

const NORMAL_TWIST = dbToPower(MAX_NORMAL_TWIST_DB);
const REVERSE_TWIST = dbToPower(MAX_REVERSE_TWIST_DB);
const PEAK = dbToPower(RELATIVE_PEAK_DB);
const HARMONIC = dbToPower(HARMONIC_DB);

export class InbandDtmfDetector {
	readonly sampleRate: number;
	/** Samples per analysis block (20 ms). */
	readonly blockSize: number;

	readonly #coef = new Float64Array(FILTERS);
	readonly #s1 = new Float64Array(FILTERS);
	readonly #s2 = new Float64Array(FILTERS);
	readonly #power = new Float64Array(FILTERS);
	/** Block energy a tone at MIN_TONE_DBFS has (Σx² over one block). */
	readonly #minTone: number;
	#energy = 0;
	#filled = 0;
	#candidate = '';
	#hits = 0;
	#current = '';
	#misses = 0;
	#lastBlock = '';
	/** Blocks analysed; first and last block of the digit held, for its length. */
	#block = 0;
	#firstBlock = 0;
	#lastMatch = 0;
	readonly #onEnd: ((digit: string, durationMs: number) => void) | undefined;

	/**
	 * `onEnd`, if given, is called once per digit when its tone stops (after
	 * GAP_BLOCKS blocks without it) with the tone's length in ms; process()
	 * still returns the digit as soon as it is confirmed.
	 */
	constructor(sampleRate = 8000, onEnd?: (digit: string, durationMs: number) => void) {
		this.#onEnd = onEnd;
		if (!Number.isInteger(sampleRate) || sampleRate < 4000 || sampleRate > 96000) {
			throw new RangeError(`sampleRate ${sampleRate} must be an integer in [4000, 96000]`);
		}
		this.sampleRate = sampleRate;
		this.blockSize = Math.round(sampleRate / 50);
		for (let k = 0; k < 4; k++) {
			this.#coef[k] = 2 * Math.cos((2 * Math.PI * ROW_FREQS[k]!) / sampleRate);
			this.#coef[4 + k] = 2 * Math.cos((2 * Math.PI * COL_FREQS[k]!) / sampleRate);
			this.#coef[8 + k] = 2 * Math.cos((2 * Math.PI * 2 * COL_FREQS[k]!) / sampleRate);
		}
		const amplitude = 32768 * 10 ** (MIN_TONE_DBFS / 20);
		this.#minTone = (this.blockSize * amplitude * amplitude) / 2;
	}

	/**
	 * Whether the last complete block held a DTMF tone (confirmed or not).
	 * Fed one 20 ms frame per process() call, the caller can blank that frame
	 * so the tones do not reach the room's mix.
	 */
	get toneActive(): boolean {
		return this.#lastBlock !== '';
	}

	/** Forgets any partial block and the digit being held. */
	reset(): void {
		this.#s1.fill(0);
		this.#s2.fill(0);
		this.#energy = 0;
		this.#filled = 0;
		this.#candidate = '';
		this.#hits = 0;
		this.#current = '';
		this.#misses = 0;
		this.#lastBlock = '';
	}

	/**
	 * Feeds `n` samples at `off` (any count; blocks span calls). Returns the
	 * digit confirmed in this call, or ''. More than 80 ms in one call could
	 * confirm two digits; they are returned in order as one string.
	 */
	process(pcm: Int16Array, off: number, n: number): string {
		let found = '';
		const block = this.blockSize;
		const coef = this.#coef;
		const s1a = this.#s1;
		const s2a = this.#s2;
		let at = off;
		const end = off + n;
		while (at < end) {
			const m = Math.min(end - at, block - this.#filled);
			const stop = at + m;
			// Four filters per pass over the samples: independent recurrences
			// the CPU can overlap (about twice as fast as one at a time).
			for (let f = 0; f < FILTERS; f += 4) {
				const c0 = coef[f]!;
				const c1 = coef[f + 1]!;
				const c2 = coef[f + 2]!;
				const c3 = coef[f + 3]!;
				let a0 = s1a[f]!;
				let a1 = s1a[f + 1]!;
				let a2 = s1a[f + 2]!;
				let a3 = s1a[f + 3]!;
				let b0 = s2a[f]!;
				let b1 = s2a[f + 1]!;
				let b2 = s2a[f + 2]!;
				let b3 = s2a[f + 3]!;
				for (let i = at; i < stop; i++) {
					const x = pcm[i]!;
					const t0 = x + c0 * a0 - b0;
					const t1 = x + c1 * a1 - b1;
					const t2 = x + c2 * a2 - b2;
					const t3 = x + c3 * a3 - b3;
					b0 = a0;
					b1 = a1;
					b2 = a2;
					b3 = a3;
					a0 = t0;
					a1 = t1;
					a2 = t2;
					a3 = t3;
				}
				s1a[f] = a0;
				s1a[f + 1] = a1;
				s1a[f + 2] = a2;
				s1a[f + 3] = a3;
				s2a[f] = b0;
				s2a[f + 1] = b1;
				s2a[f + 2] = b2;
				s2a[f + 3] = b3;
			}
			let e = this.#energy;
			for (let i = at; i < stop; i++) {
				const x = pcm[i]!;
				e += x * x;
			}
			this.#energy = e;
			this.#filled += m;
			at = stop;
			if (this.#filled === block) {
				const digit = this.#classify();
				this.#lastBlock = digit;
				this.#s1.fill(0);
				this.#s2.fill(0);
				this.#energy = 0;
				this.#filled = 0;
				const d = this.#track(digit);
				if (d !== '') {
					found = found === '' ? d : found + d;
				}
			}
		}
		return found;
	}

	/** The digit one block holds, or ''. */
	#classify(): string {
		const e = this.#energy;
		if (e < this.#minTone) {
			return '';
		}
		const scale = 2 / this.blockSize;
		const p = this.#power;
		for (let f = 0; f < FILTERS; f++) {
			const c = this.#coef[f]!;
			const s1 = this.#s1[f]!;
			const s2 = this.#s2[f]!;
			p[f] = (s1 * s1 + s2 * s2 - c * s1 * s2) * scale;
		}
		let r = 0;
		for (let k = 1; k < 4; k++) {
			if (p[k]! > p[r]!) {
				r = k;
			}
		}
		let c = 4;
		for (let k = 5; k < 8; k++) {
			if (p[k]! > p[c]!) {
				c = k;
			}
		}
		const row = p[r]!;
		const col = p[c]!;
		const minTone = this.#minTone;
		if (row < minTone || col < minTone) {
			return '';
		}
		if (row > col * NORMAL_TWIST || col > row * REVERSE_TWIST) {
			return '';
		}
		for (let k = 0; k < 4; k++) {
			if ((k !== r && p[k]! * PEAK > row) || (k + 4 !== c && p[k + 4]! * PEAK > col)) {
				return '';
			}
		}
		if (p[c + 4]! * HARMONIC > col) {
			return '';
		}
		if (row + col < ENERGY_RATIO * e) {
			return '';
		}
		return KEYPAD[r * 4 + (c - 4)]!;
	}

	/** The digit whose tone is held now (confirmed, not yet ended), or ''. */
	get current(): string {
		return this.#current;
	}

	/** Duration and gap rules over successive block results. */
	#track(digit: string): string {
		const block = ++this.#block;
		if (digit !== '' && digit === this.#candidate) {
			this.#hits++;
		} else {
			this.#candidate = digit;
			this.#hits = 1;
		}
		if (this.#current !== '') {
			if (digit === this.#current) {
				this.#misses = 0;
				this.#lastMatch = block;
			} else if (++this.#misses >= GAP_BLOCKS || (digit !== '' && this.#hits >= MIN_BLOCKS)) {
				this.#endCurrent();
			}
		}
		if (digit !== '' && this.#hits >= MIN_BLOCKS && digit !== this.#current) {
			this.#current = digit;
			this.#misses = 0;
			this.#firstBlock = block - this.#hits + 1;
			this.#lastMatch = block;
			return digit;
		}
		return '';
	}

	#endCurrent(): void {
		const digit = this.#current;
		this.#current = '';
		this.#onEnd?.(digit, ((this.#lastMatch - this.#firstBlock + 1) * this.blockSize * 1000) / this.sampleRate);
	}
}
