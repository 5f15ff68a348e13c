import type { MixKernel } from './kernel.js';

/**
 * The TypeScript kernel. Allocates nothing: it works only in the caller's
 * preallocated buffers. Loops are plain indexed for-loops over typed arrays,
 * which V8 compiles to tight machine code; the saturate is inlined by hand
 * because this runs count × frameSamples times per room per tick.
 */
export const tsKernel: MixKernel = {
	name: 'ts',
	mix(inputs, active, count, frameSamples, sum, outputs) {
		const n = frameSamples;
		// The first talker initialises the sum, which saves a separate zeroing pass.
		let first = true;
		for (let i = 0; i < count; i++) {
			if (active[i] === 0) {
				continue;
			}
			const x = inputs[i]!;
			if (first) {
				for (let j = 0; j < n; j++) {
					sum[j] = x[j]!;
				}
				first = false;
			} else {
				for (let j = 0; j < n; j++) {
					sum[j] = sum[j]! + x[j]!;
				}
			}
		}
		if (first) {
			// Nobody talked: everyone hears silence, and the sum says so too (as native's does).
			sum.fill(0, 0, n);
			for (let i = 0; i < count; i++) {
				outputs[i]!.fill(0, 0, n);
			}
			return;
		}
		for (let i = 0; i < count; i++) {
			const out = outputs[i]!;
			if (active[i] !== 0) {
				const x = inputs[i]!;
				for (let j = 0; j < n; j++) {
					const v = sum[j]! - x[j]!;
					out[j] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
				}
			} else {
				for (let j = 0; j < n; j++) {
					const v = sum[j]!;
					out[j] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
				}
			}
		}
	},
};
