/**
 * Types of the native mix kernel, build/Release/native_mixer.node.
 * It is loaded by src/mixer/kernel/native-kernel.ts; see README.md.
 */

/**
 * One N-1 mix of one room for one tick, the MixKernel contract of
 * src/mixer/kernel/kernel.ts:
 *
 *   sum[j]        = Σ inputs[i][j]  over i < count with active[i] != 0
 *   outputs[i][j] = saturate16(sum[j] - (active[i] ? inputs[i][j] : 0))
 *
 * for j < frameSamples. When no input is active, `sum` is zeroed and every
 * output is silence. Nothing past frameSamples or past count is touched.
 * `outputs[i]` may be the same array as `inputs[i]` (in place).
 *
 * Throws a TypeError (code ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE or
 * ERR_MISSING_ARGS) before writing anything when: an argument has the wrong
 * type; count is not an integer in [0, 65536]; frameSamples is not a
 * non-negative integer; inputs, outputs or active has fewer than count
 * elements; sum or any inputs[i] / outputs[i] with i < count (inactive ones
 * included) is shorter than frameSamples (a detached buffer has length 0).
 * `this` is ignored.
 */
export type MixFunction = (
	inputs: readonly Int16Array[],
	active: Uint8Array,
	count: number,
	frameSamples: number,
	sum: Int32Array,
	outputs: readonly Int16Array[],
) => void;

/** The SIMD variants this build has; `avx2` only when the CPU runs it. */
export type SimdLevel = 'avx2' | 'sse2' | 'scalar';

/** The fastest variant this CPU runs (the one named by `simd`). */
export declare const mix: MixFunction;

/** Always 'native', to tell kernels apart in logs and metrics. */
export declare const name: 'native';

/** Which variant `mix` is: picked once at load time from CPUID. */
export declare const simd: SimdLevel;

/** The largest count accepted: 65536 full-scale inputs fill the int32 sum without wrapping. */
export declare const maxCount: number;

/** Every variant this CPU runs, frozen; for tests and benchmarks. */
export declare const kernels: Readonly<Partial<Record<SimdLevel, MixFunction>> & { scalar: MixFunction }>;
