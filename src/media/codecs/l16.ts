import type { AudioCodec, CodecName } from './codec.js';

/**
 * L16 (RFC 3551 §4.5.11): uncompressed 16-bit signed PCM in network byte
 * order (big-endian), mono here, at 8000 or 16000 Hz. Always a dynamic
 * payload type. Stateless, so legs share the two instances.
 *
 * 48 kHz is left out on purpose: a 20 ms frame (1920 bytes) does not fit in
 * one Ethernet MTU.
 */
export const L16_RATES: readonly number[] = [8000, 16000];

class L16Codec implements AudioCodec {
	readonly name: CodecName = 'L16';
	readonly clockRate: number;
	readonly sampleRate: number;
	readonly payloadType: number;

	constructor(rate: number, payloadType: number) {
		this.clockRate = rate;
		this.sampleRate = rate;
		this.payloadType = payloadType;
	}

	frameSamples(ms: number): number {
		return ((ms * this.sampleRate) / 1000) | 0;
	}

	decodedSamples(bytes: number): number {
		return bytes >> 1;
	}

	decode(payload: Buffer, off: number, len: number, out: Int16Array, outOff: number): number {
		// An odd trailing byte is half a sample: ignored.
		const n = len >> 1;
		for (let i = 0, p = off; i < n; i++, p += 2) {
			out[outOff + i] = ((payload[p]! << 24) | (payload[p + 1]! << 16)) >> 16;
		}
		return n;
	}

	encode(pcm: Int16Array, off: number, n: number, out: Buffer, outOff: number): number {
		for (let i = 0, p = outOff; i < n; i++, p += 2) {
			const s = pcm[off + i]!;
			out[p] = (s >> 8) & 0xff;
			out[p + 1] = s & 0xff;
		}
		return 2 * n;
	}
}

/** L16/8000 and L16/16000, with the dynamic payload types our offers use. */
export const L16_8000: AudioCodec = new L16Codec(8000, 98);
export const L16_16000: AudioCodec = new L16Codec(16000, 97);
