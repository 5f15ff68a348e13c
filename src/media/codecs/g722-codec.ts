import type { AudioCodec, CodecName } from './codec.js';
import { G722Decoder, G722Encoder, G722_PAYLOAD_TYPE, G722_RTP_CLOCK_RATE, G722_SAMPLE_RATE } from './g722.js';

/**
 * G.722 as an AudioCodec: 16 kHz PCM, one byte per two samples, RTP clock
 * 8000 (RFC 3551 §4.5.2: 160 timestamp units per 20 ms packet of 320
 * samples). Encoder and decoder are adaptive, so every leg needs its own
 * instance (createCodec('G722') makes one).
 */
export class G722Codec implements AudioCodec {
	readonly name: CodecName = 'G722';
	readonly clockRate = G722_RTP_CLOCK_RATE;
	readonly sampleRate = G722_SAMPLE_RATE;
	readonly payloadType = G722_PAYLOAD_TYPE;
	readonly #enc = new G722Encoder();
	readonly #dec = new G722Decoder();

	frameSamples(ms: number): number {
		return (ms * 16) | 0;
	}

	decodedSamples(bytes: number): number {
		return 2 * bytes;
	}

	decode(payload: Buffer, off: number, len: number, out: Int16Array, outOff: number): number {
		return this.#dec.decode(payload, off, len, out, outOff);
	}

	encode(pcm: Int16Array, off: number, n: number, out: Buffer, outOff: number): number {
		// Two samples per byte: an odd last sample waits for no one and is dropped.
		return this.#enc.encode(pcm, off, n & ~1, out, outOff);
	}

	/** Back to the initial state, as for a new stream. */
	reset(): void {
		this.#enc.reset();
		this.#dec.reset();
	}
}
