/**
 * G.711 μ-law and A-law for tests: a direct port of the classic Sun
 * Microsystems g711.c (public domain). Deliberately independent of
 * src/media so end-to-end tests do not trust the codec under test.
 *
 * Linear values are 16-bit two's complement (the Sun code's "16-bit range").
 */

const SIGN_BIT = 0x80;
const QUANT_MASK = 0x0f;
const SEG_SHIFT = 4;
const SEG_MASK = 0x70;
const BIAS = 0x84;
const CLIP = 8159;

const SEG_AEND = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff] as const;
const SEG_UEND = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff] as const;

function search(val: number, table: readonly number[]): number {
	for (let i = 0; i < table.length; i++) {
		if (val <= (table[i] as number)) {
			return i;
		}
	}
	return table.length;
}

/** 16-bit linear PCM → A-law byte. */
export function linear2alaw(pcm: number): number {
	let v = pcm >> 3;
	let mask: number;
	if (v >= 0) {
		mask = 0xd5;
	} else {
		mask = 0x55;
		v = -v - 1;
	}
	const seg = search(v, SEG_AEND);
	if (seg >= 8) {
		return (0x7f ^ mask) & 0xff;
	}
	let aval = seg << SEG_SHIFT;
	aval |= seg < 2 ? (v >> 1) & QUANT_MASK : (v >> seg) & QUANT_MASK;
	return (aval ^ mask) & 0xff;
}

/** A-law byte → 16-bit linear PCM. */
export function alaw2linear(aByte: number): number {
	const a = (aByte & 0xff) ^ 0x55;
	let t = (a & QUANT_MASK) << 4;
	const seg = (a & SEG_MASK) >> SEG_SHIFT;
	switch (seg) {
		case 0: {
			t += 8;
			break;
		}
		case 1: {
			t += 0x108;
			break;
		}
		default: {
			t += 0x108;
			t <<= seg - 1;
		}
	}
	return a & SIGN_BIT ? t : -t;
}

/** 16-bit linear PCM → μ-law byte. */
export function linear2ulaw(pcm: number): number {
	let v = pcm >> 2;
	let mask: number;
	if (v < 0) {
		v = -v;
		mask = 0x7f;
	} else {
		mask = 0xff;
	}
	if (v > CLIP) {
		v = CLIP;
	}
	v += BIAS >> 2;
	const seg = search(v, SEG_UEND);
	if (seg >= 8) {
		return (0x7f ^ mask) & 0xff;
	}
	const uval = (seg << 4) | ((v >> (seg + 1)) & 0x0f);
	return (uval ^ mask) & 0xff;
}

/** μ-law byte → 16-bit linear PCM. */
export function ulaw2linear(uByte: number): number {
	const u = ~uByte & 0xff;
	let t = ((u & QUANT_MASK) << 3) + BIAS;
	t <<= (u & SEG_MASK) >> SEG_SHIFT;
	return u & SIGN_BIT ? BIAS - t : t - BIAS;
}

export type G711Law = 'PCMU' | 'PCMA';

/** Encodes int16 samples to G.711 bytes (one byte per sample). */
export function g711Encode(law: G711Law, pcm: Int16Array, out: Uint8Array = new Uint8Array(pcm.length)): Uint8Array {
	const f = law === 'PCMU' ? linear2ulaw : linear2alaw;
	for (let i = 0; i < pcm.length; i++) {
		out[i] = f(pcm[i] as number);
	}
	return out;
}

/** Decodes G.711 bytes to int16 samples. */
export function g711Decode(law: G711Law, bytes: Uint8Array, out: Int16Array = new Int16Array(bytes.length)): Int16Array {
	const f = law === 'PCMU' ? ulaw2linear : alaw2linear;
	for (let i = 0; i < bytes.length; i++) {
		out[i] = f(bytes[i] as number);
	}
	return out;
}

/** Static RTP payload type of a G.711 law (RFC 3551). */
export function g711PayloadType(law: G711Law): number {
	return law === 'PCMU' ? 0 : 8;
}
