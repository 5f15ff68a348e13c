import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { type MixKernel, loadKernel, loadNativeKernel, saturate16, tsKernel } from '../../../src/mixer/kernel/index.js';

/** mulberry32: small, seeded, good enough for test vectors. */
function prng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** The definition, spelled out: each listener hears every other active talker. */
function referenceMix(inputs: Int16Array[], active: Uint8Array, count: number, fs: number): Int16Array[] {
	const outs: Int16Array[] = [];
	for (let i = 0; i < count; i++) {
		const out = new Int16Array(fs);
		for (let j = 0; j < fs; j++) {
			let s = 0;
			for (let k = 0; k < count; k++) {
				if (k !== i && active[k]) {
					s += inputs[k]![j]!;
				}
			}
			out[j] = Math.max(-32768, Math.min(32767, s));
		}
		outs.push(out);
	}
	return outs;
}

interface Case {
	inputs: Int16Array[];
	active: Uint8Array;
	outputs: Int16Array[];
	sum: Int32Array;
}

function makeCase(count: number, fs: number): Case {
	const inputs: Int16Array[] = [];
	const outputs: Int16Array[] = [];
	for (let i = 0; i < count; i++) {
		inputs.push(new Int16Array(fs));
		// Garbage in the outputs: the kernel must overwrite every sample.
		outputs.push(new Int16Array(fs).fill(12345));
	}
	return { inputs, active: new Uint8Array(count), outputs, sum: new Int32Array(fs).fill(-999) };
}

function run(kernel: MixKernel, c: Case, count: number, fs: number): void {
	kernel.mix(c.inputs, c.active, count, fs, c.sum, c.outputs);
}

// Every kernel that loads here gets the same vectors: the TypeScript one, the
// native one as the loader returns it, and each SIMD variant the CPU runs.
const kernels: MixKernel[] = [tsKernel];
try {
	kernels.push(loadNativeKernel());
	const addon = createRequire(import.meta.url)('../../../../native-mixer/build/Release/native_mixer.node') as {
		kernels: Record<string, MixKernel['mix']>;
	};
	for (const [level, mix] of Object.entries(addon.kernels)) {
		kernels.push({ name: `native/${level}`, mix });
	}
} catch {
	// Not built on this machine: the TypeScript kernel is tested alone.
}

describe('saturate16', () => {
	it('clamps to the int16 range', () => {
		assert.equal(saturate16(40000), 32767);
		assert.equal(saturate16(-40000), -32768);
		assert.equal(saturate16(32767), 32767);
		assert.equal(saturate16(-32768), -32768);
		assert.equal(saturate16(-5), -5);
	});
});

for (const kernel of kernels) {
	describe(`mix kernel: ${kernel.name}`, () => {
		it('matches the reference on random input (seeded)', () => {
			const rnd = prng(0xc0ffee);
			for (let trial = 0; trial < 300; trial++) {
				const count = 1 + Math.floor(rnd() * 12);
				const fs = [1, 7, 80, 160, 320, 960][Math.floor(rnd() * 6)]!;
				// Alternate quiet speech-like levels (rarely clip) with full scale (clips a lot).
				const amp = trial % 2 === 0 ? 4000 : 32768;
				const c = makeCase(count, fs);
				for (let i = 0; i < count; i++) {
					c.active[i] = rnd() < 0.8 ? 1 : 0;
					const x = c.inputs[i]!;
					for (let j = 0; j < fs; j++) {
						x[j] = Math.floor((rnd() * 2 - 1) * amp);
					}
				}
				run(kernel, c, count, fs);
				const want = referenceMix(c.inputs, c.active, count, fs);
				for (let i = 0; i < count; i++) {
					assert.deepEqual(c.outputs[i], want[i], `trial ${trial}, listener ${i} of ${count}, ${fs} samples`);
				}
				for (let j = 0; j < fs; j++) {
					let s = 0;
					for (let i = 0; i < count; i++) {
						s += c.active[i] ? c.inputs[i]![j]! : 0;
					}
					assert.equal(c.sum[j], s, `trial ${trial}: sum[${j}]`);
				}
			}
		});

		it('leaves out inactive inputs but still gives them the mix', () => {
			const c = makeCase(4, 3);
			c.inputs[0]!.fill(100);
			c.inputs[1]!.fill(20);
			c.inputs[2]!.fill(3000); // stale data from an earlier tick: must not be heard
			c.inputs[3]!.fill(-7);
			c.active.set([1, 1, 0, 1]);
			run(kernel, c, 4, 3);
			assert.deepEqual([...c.outputs[0]!], [13, 13, 13]);
			assert.deepEqual([...c.outputs[1]!], [93, 93, 93]);
			assert.deepEqual([...c.outputs[2]!], [113, 113, 113]);
			assert.deepEqual([...c.outputs[3]!], [120, 120, 120]);
		});

		it('gives silence to everyone when nobody is active', () => {
			const c = makeCase(3, 4);
			c.inputs.forEach((x) => x.fill(500));
			run(kernel, c, 3, 4);
			for (const out of c.outputs) {
				assert.deepEqual([...out], [0, 0, 0, 0]);
			}
			assert.deepEqual([...c.sum], [0, 0, 0, 0]);
		});

		it('mixes in place when outputs are the inputs', () => {
			const rnd = prng(7);
			const count = 5;
			const fs = 160;
			const c = makeCase(count, fs);
			for (let i = 0; i < count; i++) {
				c.active[i] = i === 2 ? 0 : 1;
				for (let j = 0; j < fs; j++) {
					c.inputs[i]![j] = Math.floor((rnd() * 2 - 1) * 20000);
				}
			}
			const want = referenceMix(c.inputs, c.active, count, fs);
			kernel.mix(c.inputs, c.active, count, fs, c.sum, c.inputs);
			for (let i = 0; i < count; i++) {
				assert.deepEqual(c.inputs[i], want[i], `listener ${i}`);
			}
		});

		it('gives a lone participant silence', () => {
			const c = makeCase(1, 4);
			c.inputs[0]!.fill(32767);
			c.active[0] = 1;
			run(kernel, c, 1, 4);
			assert.deepEqual([...c.outputs[0]!], [0, 0, 0, 0]);
		});

		it('saturates at +32767 and -32768 instead of wrapping', () => {
			const c = makeCase(4, 2);
			c.inputs[0]!.set([32767, -32768]);
			c.inputs[1]!.set([32767, -32768]);
			c.inputs[2]!.set([32767, -32768]);
			c.inputs[3]!.set([0, 0]);
			c.active.fill(1);
			run(kernel, c, 4, 2);
			// Listener 3 hears 3 × full scale; listeners 0-2 hear 2 × full scale.
			for (let i = 0; i < 4; i++) {
				assert.deepEqual([...c.outputs[i]!], [32767, -32768], `listener ${i}`);
			}
		});

		it('subtracts the own contribution from a sum that is far out of range', () => {
			// The sum (32766) fits in 16 bits, but only because opposite extremes cancel:
			// the running sum passes 65534 on the way, and one listener's N-1 is 65534.
			const c = makeCase(3, 1);
			c.inputs[0]!.set([32767]);
			c.inputs[1]!.set([32767]);
			c.inputs[2]!.set([-32768]);
			c.active.fill(1);
			run(kernel, c, 3, 1);
			assert.equal(c.outputs[0]![0], -1);
			assert.equal(c.outputs[1]![0], -1);
			assert.equal(c.outputs[2]![0], 32767);
		});

		it('treats any nonzero active flag as active', () => {
			const c = makeCase(2, 1);
			c.inputs[0]!.set([5]);
			c.inputs[1]!.set([9]);
			c.active.set([2, 255]);
			run(kernel, c, 2, 1);
			assert.equal(c.outputs[0]![0], 9);
			assert.equal(c.outputs[1]![0], 5);
		});

		it('touches only count participants and frameSamples samples', () => {
			const c = makeCase(3, 8);
			c.inputs.forEach((x) => x.fill(10));
			c.active.fill(1);
			run(kernel, c, 2, 5);
			assert.deepEqual([...c.outputs[0]!], [10, 10, 10, 10, 10, 12345, 12345, 12345]);
			assert.deepEqual([...c.outputs[2]!], new Array(8).fill(12345));
		});
	});
}

describe('loadKernel', () => {
	const missing = '/nonexistent/native_mixer.node';

	it('CONFSRV_MIXER_KERNEL=ts picks the TypeScript kernel', () => {
		assert.equal(loadKernel({ CONFSRV_MIXER_KERNEL: 'ts' }), tsKernel);
	});

	it('falls back to TypeScript when the addon is missing', () => {
		assert.equal(loadKernel({ CONFSRV_MIXER_NATIVE_BIN: missing }), tsKernel);
	});

	it('CONFSRV_MIXER_KERNEL=native fails loudly when the addon is missing', () => {
		assert.throws(() => loadKernel({ CONFSRV_MIXER_KERNEL: 'native', CONFSRV_MIXER_NATIVE_BIN: missing }), {
			code: 'CONFIG_INVALID',
		});
	});

	it('rejects an unknown CONFSRV_MIXER_KERNEL value', () => {
		assert.throws(() => loadKernel({ CONFSRV_MIXER_KERNEL: 'simd' }), { code: 'CONFIG_INVALID' });
	});
});
