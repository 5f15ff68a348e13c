/**
 * An audio codec as a media leg uses it: stateless-looking encode/decode over
 * caller-owned buffers (offset + length, no views), so the packet path
 * allocates nothing. Stateful codecs (G.722, Opus) keep their state in the
 * instance, one instance per leg (its encoder and decoder states are apart,
 * so one instance serves both directions of that leg); createCodec() hands
 * out fresh ones, and the stateless ones (G.711, L16) as shared instances.
 */
export type CodecName = 'PCMU' | 'PCMA' | 'G722' | 'opus' | 'L16';

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
	/**
	 * Decodes `len` payload bytes at `off` into `out` at `outOff`; returns
	 * samples written (0 for a payload that does not decode: it is dropped).
	 */
	decode(payload: Buffer, off: number, len: number, out: Int16Array, outOff: number): number;
	/**
	 * Encodes `n` samples at `off` into `out` at `outOff`; returns bytes
	 * written. 0 means there is nothing to send for this frame (Opus DTX): the
	 * RTP timestamp still advances, the sequence number does not.
	 */
	encode(pcm: Int16Array, off: number, n: number, out: Buffer, outOff: number): number;
}
