/**
 * G.711 μ-law and A-law for the bench (the classic Sun g711.c algorithm),
 * written apart from src/ so the bench does not share a bug with the server
 * it measures. Encoding happens once, when the frame tables are built;
 * decoding is a table lookup per sample.
 */

export type G711Law = 'ulaw' | 'alaw';

const BIAS = 0x84;
const ULAW_CLIP = 8159;

/** Sun linear2ulaw: the 16-bit sample reduced to 14 bits, clipped, biased, segment + mantissa. */
export function ulawEncode(pcm: number): number {
	let v = pcm >> 2;
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
	v += BIAS >> 2;
	let seg = 0;
	while (seg < 8 && v >= 0x40 << seg) {
		seg++;
	}
	if (seg >= 8) {
		return 0x7f ^ mask;
	}
	return ((seg << 4) | ((v >> (seg + 1)) & 0x0f)) ^ mask;
}

export function ulawDecodeSample(code: number): number {
	const u = ~code & 0xff;
	const t = (((u & 0x0f) << 3) + BIAS) << ((u & 0x70) >> 4);
	return (u & 0x80) !== 0 ? BIAS - t : t - BIAS;
}

export function alawEncode(pcm: number): number {
	let mask: number;
	let v = pcm >> 3;
	if (v >= 0) {
		mask = 0xd5;
	} else {
		mask = 0x55;
		v = -v - 1;
	}
	let seg = 0;
	while (seg < 8 && v >= 0x20 << seg) {
		seg++;
	}
	if (seg >= 8) {
		return 0x7f ^ mask;
	}
	const q = seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f;
	return ((seg << 4) | q) ^ mask;
}

export function alawDecodeSample(code: number): number {
	const a = (code ^ 0x55) & 0xff;
	let t = (a & 0x0f) << 4;
	const seg = (a & 0x70) >> 4;
	if (seg === 0) {
		t += 8;
	} else {
		t = (t + 0x108) << (seg - 1);
	}
	return (a & 0x80) !== 0 ? t : -t;
}

export const ULAW_TABLE = new Int16Array(256);
export const ALAW_TABLE = new Int16Array(256);
for (let i = 0; i < 256; i++) {
	ULAW_TABLE[i] = ulawDecodeSample(i);
	ALAW_TABLE[i] = alawDecodeSample(i);
}

export function g711EncodeInto(law: G711Law, pcm: Int16Array, out: Uint8Array, outOff = 0): void {
	const enc = law === 'ulaw' ? ulawEncode : alawEncode;
	for (let i = 0; i < pcm.length; i++) {
		out[outOff + i] = enc(pcm[i]!);
	}
}

/** Decodes `len` bytes at `off` into out[0..len). */
export function g711DecodeInto(table: Int16Array, payload: Uint8Array, off: number, len: number, out: Int16Array): void {
	for (let i = 0; i < len; i++) {
		out[i] = table[payload[off + i]!]!;
	}
}
