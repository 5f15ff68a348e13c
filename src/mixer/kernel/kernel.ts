/**
 * The N-1 mix kernel: one call mixes one room for one tick.
 *
 *   sum[j]        = Σ input[i][j]  over i < count with active[i] = 1
 *   output[i][j]  = saturate16(sum[j] - (active[i] ? input[i][j] : 0))
 *
 * `active[i]` is 1 for an input that has a frame this tick and 0 for one that
 * does not; kernels treat any nonzero value as 1 (C truthiness), so the two
 * implementations cannot disagree on odd values.
 *
 * After the call `sum[0..frameSamples)` holds the sum (zeros when nobody is
 * active). `outputs[i]` may be the same array as `inputs[i]` (mixing in place).
 *
 * The sum is built once per tick, so a room costs O(count × frameSamples)
 * rather than O(count² × frameSamples). `sum` is a 32-bit scratch the caller
 * owns: it holds 65536 full-scale talkers before it could wrap, far beyond any
 * room. Only the first `frameSamples` elements of each array are touched, so
 * callers may pass buffers larger than the frame.
 *
 * Both the TypeScript kernel and the native one (native-mixer/) implement this
 * exact signature and must give bit-identical output; the shared tests check
 * every kernel that loads against the same reference.
 */
export interface MixKernel {
	readonly name: string;
	mix(
		inputs: Int16Array[],
		active: Uint8Array,
		count: number,
		frameSamples: number,
		sum: Int32Array,
		outputs: Int16Array[],
	): void;
}

/** Clamps to the int16 range (plain `| 0` narrowing would wrap, which is audible). */
export function saturate16(v: number): number {
	return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}
