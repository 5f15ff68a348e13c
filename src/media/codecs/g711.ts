import type { AudioCodec, CodecName } from './codec.js';

/**
 * G.711 μ-law (PCMU, PT 0) and A-law (PCMA, PT 8), table-driven.
 *
 * The tables are built once at module load from the ITU-T G.711 algorithm as
 * the classic Sun Microsystems g711.c implements it:
 *   - decode: one Int16Array(256) per law;
 *   - encode: one Uint8Array per law indexed by the input reduced to the
 *     precision the law keeps, 14 bits for μ-law (pcm >> 2) and 13 bits for
 *     A-law (pcm >> 3), so a sample costs one shift, one add and one load.
 */

const ULAW_BIAS = 0x84;
const ULAW_CLIP = 8159;

/** μ-law code for a 14-bit sample v = pcm >> 2 (Sun linear2ulaw). */
function ulawFrom14(v: number): number {
	let mask: number;
	if (v < 0) {
		v = -v;
		mask = 0x7f;
	} else {
		mask = 0xff;
	}
	if (v > ULAW_CLIP) {
		v = ULAW_CLIP;
	}
	v += ULAW_BIAS >> 2;
	// Segment k holds up to (0x40 << k) - 1 (Sun's seg_uend table).
	let seg = 0;
	while (seg < 8 && v >= 0x40 << seg) {
		seg++;
	}
	if (seg >= 8) {
		return 0x7f ^ mask;
	}
	return ((seg << 4) | ((v >> (seg + 1)) & 0x0f)) ^ mask;
}

/** A-law code for a 13-bit sample v = pcm >> 3 (Sun linear2alaw). */
function alawFrom13(v: number): number {
	let mask: number;
	if (v >= 0) {
		mask = 0xd5;
	} else {
		mask = 0x55;
		v = -v - 1;
	}
	let seg = 0;
	// Segment k holds up to (0x20 << k) - 1 (Sun's seg_aend table).
	while (seg < 8 && v >= 0x20 << seg) {
		seg++;
	}
	if (seg >= 8) {
		return 0x7f ^ mask;
	}
	const q = seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f;
	return ((seg << 4) | q) ^ mask;
}

/** Sun ulaw2linear. */
function ulawToLinear(u: number): number {
	u = ~u & 0xff;
	const t = (((u & 0x0f) << 3) + ULAW_BIAS) << ((u & 0x70) >> 4);
	return (u & 0x80) !== 0 ? ULAW_BIAS - t : t - ULAW_BIAS;
}

/** Sun alaw2linear. */
function alawToLinear(a: number): number {
	a ^= 0x55;
	let t = (a & 0x0f) << 4;
	const seg = (a & 0x70) >> 4;
	if (seg === 0) {
		t += 8;
	} else {
		t = (t + 0x108) << (seg - 1);
	}
	return (a & 0x80) !== 0 ? t : -t;
}

const ULAW_DECODE = new Int16Array(256);
const ALAW_DECODE = new Int16Array(256);
const ULAW_ENCODE = new Uint8Array(1 << 14);
const ALAW_ENCODE = new Uint8Array(1 << 13);
const ULAW_ENC_OFF = 1 << 13;
const ALAW_ENC_OFF = 1 << 12;

for (let i = 0; i < 256; i++) {
	ULAW_DECODE[i] = ulawToLinear(i);
	ALAW_DECODE[i] = alawToLinear(i);
}
for (let v = -ULAW_ENC_OFF; v < ULAW_ENC_OFF; v++) {
	ULAW_ENCODE[v + ULAW_ENC_OFF] = ulawFrom14(v);
}
for (let v = -ALAW_ENC_OFF; v < ALAW_ENC_OFF; v++) {
	ALAW_ENCODE[v + ALAW_ENC_OFF] = alawFrom13(v);
}

/** One sample, off the hot path (tests, tone generators). */
export function linearToUlaw(pcm: number): number {
	return ULAW_ENCODE[(pcm >> 2) + ULAW_ENC_OFF]!;
}

export function ulawToPcm(code: number): number {
	return ULAW_DECODE[code & 0xff]!;
}

export function linearToAlaw(pcm: number): number {
	return ALAW_ENCODE[(pcm >> 3) + ALAW_ENC_OFF]!;
}

export function alawToPcm(code: number): number {
	return ALAW_DECODE[code & 0xff]!;
}

/** Codes that decode to (near) silence, for filling and comfort. */
export const ULAW_SILENCE = 0xff;
export const ALAW_SILENCE = 0xd5;

class G711Codec implements AudioCodec {
	readonly name: CodecName;
	readonly clockRate = 8000;
	readonly sampleRate = 8000;
	readonly payloadType: number;
	readonly #dec: Int16Array;
	readonly #enc: Uint8Array;
	readonly #shift: number;
	readonly #encOff: number;

	constructor(name: 'PCMU' | 'PCMA') {
		this.name = name;
		const mu = name === 'PCMU';
		this.payloadType = mu ? 0 : 8;
		this.#dec = mu ? ULAW_DECODE : ALAW_DECODE;
		this.#enc = mu ? ULAW_ENCODE : ALAW_ENCODE;
		this.#shift = mu ? 2 : 3;
		this.#encOff = mu ? ULAW_ENC_OFF : ALAW_ENC_OFF;
	}

	frameSamples(ms: number): number {
		return (ms * 8) | 0;
	}

	decodedSamples(bytes: number): number {
		return bytes;
	}

	decode(payload: Buffer, off: number, len: number, out: Int16Array, outOff: number): number {
		const dec = this.#dec;
		for (let i = 0; i < len; i++) {
			out[outOff + i] = dec[payload[off + i]!]!;
		}
		return len;
	}

	encode(pcm: Int16Array, off: number, n: number, out: Buffer, outOff: number): number {
		const enc = this.#enc;
		const shift = this.#shift;
		const encOff = this.#encOff;
		for (let i = 0; i < n; i++) {
			out[outOff + i] = enc[(pcm[off + i]! >> shift) + encOff]!;
		}
		return n;
	}
}

/** Shared instances: G.711 has no state, so every leg can use these. */
export const PCMU: AudioCodec = new G711Codec('PCMU');
export const PCMA: AudioCodec = new G711Codec('PCMA');
