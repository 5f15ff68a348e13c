/**
 * An audio codec as a media leg uses it: stateless-looking encode/decode over
 * caller-owned buffers (offset + length, no views), so the packet path
 * allocates nothing. Stateful codecs (G.722, Opus) keep their state in the
 * instance, one instance per leg and direction.
 */
export type CodecName = 'PCMU' | 'PCMA' | 'G722' | 'opus';

export interface AudioCodec {
	readonly name: CodecName;
	/** RTP timestamp rate (Hz). */
	readonly clockRate: number;
	/** PCM rate (Hz); differs from clockRate for G.722 (16000 vs 8000). */
	readonly sampleRate: number;
	/** Static payload type (RFC 3551), or the usual dynamic one. */
	readonly payloadType: number;
	/** PCM samples in `ms` milliseconds. */
	frameSamples(ms: number): number;
	/** Upper bound of samples decode() writes for a payload of `bytes`. */
	decodedSamples(bytes: number): number;
	/** Decodes `len` payload bytes at `off` into `out` at `outOff`; returns samples written. */
	decode(payload: Buffer, off: number, len: number, out: Int16Array, outOff: number): number;
	/** Encodes `n` samples at `off` into `out` at `outOff`; returns bytes written. */
	encode(pcm: Int16Array, off: number, n: number, out: Buffer, outOff: number): number;
}
