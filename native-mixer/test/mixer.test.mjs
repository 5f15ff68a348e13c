// Tests for the native mix kernel: every variant this CPU runs (scalar, sse2,
// avx2) and the exported `mix` are compared with a plain JS reference on
// seeded random vectors; outputs must be bit-identical.
//
//   node --test native-mixer/test/
//
// Needs the addon built first (see ../README.md). CONFSRV_MIXER_NATIVE_BIN
// points the tests at another .node file, as it does the loader.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';

const addonPath =
	process.env.CONFSRV_MIXER_NATIVE_BIN ??
	fileURLToPath(new URL('../build/Release/native_mixer.node', import.meta.url));

let addon;
try {
	addon = createRequire(import.meta.url)(addonPath);
} catch (error) {
	throw new Error(
		`cannot load ${addonPath}; build it first: node-gyp rebuild --directory=native-mixer ` +
			`(see native-mixer/README.md)\n${error.message}`,
	);
}

/** The kernels under test: each variant, plus the dispatching `mix`. */
const kernels = [...Object.entries(addon.kernels), [`mix (${addon.simd})`, addon.mix]];

// ---------------------------------------------------------------------------
// Reference and fixtures

/**
 * The definition, written out the slow way: each listener hears the sum of
 * every other active input, clamped to int16. O(count² × frameSamples), and
 * independent of the kernels' sum-once-then-subtract shape. Exact in doubles.
 */
function reference(inputs, active, count, n) {
	const sum = new Int32Array(n);
	const outputs = [];
	for (let j = 0; j < n; j++) {
		let s = 0;
		for (let m = 0; m < count; m++) {
			if (active[m] !== 0) {
				s += inputs[m][j];
			}
		}
		sum[j] = s;
	}
	for (let i = 0; i < count; i++) {
		const out = new Int16Array(n);
		for (let j = 0; j < n; j++) {
			let s = 0;
			for (let m = 0; m < count; m++) {
				if (m !== i && active[m] !== 0) {
					s += inputs[m][j];
				}
			}
			out[j] = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
		}
		outputs.push(out);
	}
	return { sum, outputs };
}

/** mulberry32: a small seeded PRNG, so every failure can be replayed. */
function rng(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** Sample generators: full scale, quiet speech, and the two rails. */
const shapes = {
	full: (r) => Math.floor(r() * 65536) - 32768,
	quiet: (r) => Math.floor(r() * 2001) - 1000,
	rails: (r) => (r() < 0.5 ? -32768 : 32767),
	high: () => 32767,
	low: () => -32768,
	mixed: (r) => {
		const u = r();
		return u < 0.1 ? 32767 : u < 0.2 ? -32768 : Math.floor(r() * 65536) - 32768;
	},
};

/**
 * Builds one case. Buffers are views at odd element offsets into larger
 * buffers (so SIMD loads are unaligned) and longer than the frame, with a
 * sentinel past the frame that no kernel may touch.
 */
function makeCase(seed, count, n, shape, activity = 0.7) {
	const r = rng(seed);
	const gen = shapes[shape];
	const pad = 3;
	const inputs = [];
	const outputs = [];
	const active = new Uint8Array(count);
	for (let i = 0; i < count; i++) {
		const x = new Int16Array(n + 2 * pad).subarray(1 + (i % pad), 1 + (i % pad) + n + pad);
		for (let j = 0; j < x.length; j++) {
			x[j] = gen(r);
		}
		inputs.push(x);
		outputs.push(new Int16Array(n + 2 * pad).fill(0x5a5a).subarray(1, 1 + n + pad));
		// Any nonzero byte means active; use a few to prove it.
		active[i] = r() < activity ? [1, 2, 255][i % 3] : 0;
	}
	const sum = new Int32Array(n + pad).fill(0x5a5a5a5a);
	return { inputs, active, sum, outputs };
}

function checkCase(kernel, c, count, n, label) {
	const inputsBefore = c.inputs.map((x) => x.slice());
	kernel(c.inputs, c.active, count, n, c.sum, c.outputs);
	const want = reference(inputsBefore, c.active, count, n);
	for (let i = 0; i < count; i++) {
		const got = c.outputs[i].subarray(0, n);
		if (!buffersEqual(got, want.outputs[i])) {
			const j = got.findIndex((v, k) => v !== want.outputs[i][k]);
			assert.fail(`${label}: outputs[${i}][${j}] = ${got[j]}, want ${want.outputs[i][j]}`);
		}
		assert.ok(
			c.outputs[i].subarray(n).every((v) => v === 0x5a5a),
			`${label}: outputs[${i}] written past frameSamples`,
		);
		assert.ok(buffersEqual(c.inputs[i], inputsBefore[i]), `${label}: inputs[${i}] modified`);
	}
	assert.ok(buffersEqual(c.sum.subarray(0, n), want.sum), `${label}: sum differs`);
	assert.ok(
		c.sum.subarray(n).every((v) => v === 0x5a5a5a5a),
		`${label}: sum written past frameSamples`,
	);
}

function buffersEqual(a, b) {
	return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
		Buffer.from(b.buffer, b.byteOffset, b.byteLength),
	);
}

// ---------------------------------------------------------------------------
// Equality with the reference

describe('native mixer exports', () => {
	it('has name, simd, maxCount, kernels and mix', () => {
		assert.equal(addon.name, 'native');
		assert.ok(['avx2', 'sse2', 'scalar'].includes(addon.simd), addon.simd);
		assert.equal(addon.maxCount, 65536);
		assert.equal(typeof addon.mix, 'function');
		assert.equal(typeof addon.kernels.scalar, 'function');
		assert.equal(typeof addon.kernels[addon.simd], 'function');
		assert.ok(Object.isFrozen(addon.kernels));
	});

	it('ignores `this`, so the loader can re-home mix on its own object', () => {
		const kernel = { name: 'native', mix: addon.mix };
		const c = makeCase(7, 3, 160, 'full');
		const want = reference(c.inputs, c.active, 3, 160);
		kernel.mix(c.inputs, c.active, 3, 160, c.sum, c.outputs);
		assert.ok(buffersEqual(c.outputs[0].subarray(0, 160), want.outputs[0]));
	});
});

for (const [kname, kernel] of kernels) {
	describe(`kernel ${kname}`, () => {
		for (const n of [160, 320, 960]) {
			it(`matches the reference for count 1..64, frameSamples ${n}, all shapes`, () => {
				const shapeNames = Object.keys(shapes);
				for (let count = 1; count <= 64; count++) {
					const shape = shapeNames[count % shapeNames.length];
					const seed = count * 1000 + n;
					checkCase(kernel, makeCase(seed, count, n, shape), count, n, `seed ${seed} ${shape} count ${count}`);
				}
			});
		}

		it('matches on frame sizes that leave SIMD tails (1..40, 161, 479)', () => {
			const sizes = [...Array.from({ length: 40 }, (_, k) => k + 1), 161, 479];
			for (const n of sizes) {
				for (const count of [1, 2, 5, 17]) {
					const seed = n * 31 + count;
					checkCase(kernel, makeCase(seed, count, n, 'mixed'), count, n, `seed ${seed} n ${n} count ${count}`);
				}
			}
		});

		it('saturates upwards and downwards exactly like the int16 clamp', () => {
			for (const shape of ['high', 'low', 'rails']) {
				for (const count of [2, 3, 4, 10, 64]) {
					const c = makeCase(count, count, 160, shape, 1);
					checkCase(kernel, c, count, 160, `${shape} count ${count}`);
				}
			}
			// Two talkers at +20000 each: the listener-only output saturates, the
			// talkers hear the other one unclipped.
			const a = new Int16Array(16).fill(20000);
			const b = new Int16Array(16).fill(20000);
			const outs = [new Int16Array(16), new Int16Array(16), new Int16Array(16)];
			kernel([a, b, new Int16Array(16)], new Uint8Array([1, 1, 0]), 3, 16, new Int32Array(16), outs);
			assert.deepEqual([outs[0][0], outs[1][0], outs[2][0]], [20000, 20000, 32767]);
			a.fill(-20000);
			b.fill(-20000);
			kernel([a, b, new Int16Array(16)], new Uint8Array([1, 1, 0]), 3, 16, new Int32Array(16), outs);
			assert.deepEqual([outs[0][0], outs[1][0], outs[2][0]], [-20000, -20000, -32768]);
		});

		it('treats inactive inputs as silent and gives them the full mix', () => {
			for (const activity of [0.1, 0.5, 0.9]) {
				for (const count of [2, 8, 33]) {
					const seed = Math.round(activity * 100) + count;
					checkCase(kernel, makeCase(seed, count, 320, 'full', activity), count, 320, `activity ${activity} count ${count}`);
				}
			}
		});

		it('gives silence and a zero sum when nobody is active', () => {
			const c = makeCase(5, 6, 160, 'full', 0);
			assert.ok(c.active.every((v) => v === 0));
			checkCase(kernel, c, 6, 160, 'all inactive');
			assert.ok(c.sum.subarray(0, 160).every((v) => v === 0));
		});

		it('touches nothing when frameSamples is 0; count 0 only zeroes the sum', () => {
			const c = makeCase(9, 4, 160, 'full');
			kernel(c.inputs, c.active, 4, 0, c.sum, c.outputs);
			assert.ok(c.sum.every((v) => v === 0x5a5a5a5a));
			assert.ok(c.outputs.every((o) => o.every((v) => v === 0x5a5a)));
			kernel(c.inputs, c.active, 0, 160, c.sum, c.outputs);
			assert.ok(c.sum.subarray(0, 160).every((v) => v === 0));
			assert.ok(c.outputs.every((o) => o.every((v) => v === 0x5a5a)));
		});

		it('uses only the first count elements of longer arrays', () => {
			const c = makeCase(11, 12, 160, 'full');
			checkCase(kernel, c, 8, 160, 'count 8 of 12');
			for (let i = 8; i < 12; i++) {
				assert.ok(c.outputs[i].every((v) => v === 0x5a5a), `outputs[${i}] touched`);
			}
		});

		it('mixes in place when outputs[i] is inputs[i]', () => {
			for (const n of [160, 37]) {
				const c = makeCase(13, 9, n, 'mixed');
				const want = reference(c.inputs, c.active, 9, n);
				kernel(c.inputs, c.active, 9, n, c.sum, c.inputs);
				for (let i = 0; i < 9; i++) {
					assert.ok(buffersEqual(c.inputs[i].subarray(0, n), want.outputs[i]), `in place [${i}] n ${n}`);
				}
			}
		});

		it('holds 65536 full-scale talkers without wrapping the sum', () => {
			const n = 16;
			for (const v of [-32768, 32767]) {
				const x = new Int16Array(n).fill(v);
				const count = 65536;
				const inputs = new Array(count).fill(x);
				const out = new Int16Array(n);
				const outputs = new Array(count).fill(out);
				const sum = new Int32Array(n);
				kernel(inputs, new Uint8Array(count).fill(1), count, n, sum, outputs);
				assert.equal(sum[0], v * count);
				assert.equal(out[0], v);
			}
		});
	});
}

// ---------------------------------------------------------------------------
// Bad input: a TypeError with a clear message, no crash, no partial writes

describe('argument validation', () => {
	const n = 160;
	const good = () => {
		const c = makeCase(21, 4, n, 'full', 1);
		return [c.inputs, c.active, 4, n, c.sum, c.outputs];
	};
	const cases = [
		['too few arguments', (a) => a.slice(0, 5), /takes 6 arguments/],
		['inputs not an array', (a) => ((a[0] = new Int16Array(4)), a), /inputs must be an Array/],
		['outputs not an array', (a) => ((a[5] = {}), a), /outputs must be an Array/],
		['inputs shorter than count', (a) => ((a[0] = a[0].slice(0, 3)), a), /inputs has 3 elements, fewer than count 4/],
		['outputs shorter than count', (a) => ((a[5] = a[5].slice(0, 2)), a), /outputs has 2 elements/],
		['active not a Uint8Array', (a) => ((a[1] = new Int8Array(4)), a), /active must be a Uint8Array/],
		['active a plain array', (a) => ((a[1] = [1, 1, 1, 1]), a), /active must be a Uint8Array/],
		['active shorter than count', (a) => ((a[1] = new Uint8Array(3)), a), /active has length 3, shorter than count 4/],
		['count a string', (a) => ((a[2] = '4'), a), /count must be a number/],
		['count negative', (a) => ((a[2] = -1), a), /count must be an integer/],
		['count fractional', (a) => ((a[2] = 1.5), a), /count must be an integer/],
		['count NaN', (a) => ((a[2] = NaN), a), /count must be an integer/],
		['count above 65536', (a) => ((a[2] = 65537), a), /count must be an integer from 0 to 65536/],
		['frameSamples a bigint', (a) => ((a[3] = 160n), a), /frameSamples must be a number/],
		['frameSamples Infinity', (a) => ((a[3] = Infinity), a), /frameSamples must be a non-negative integer/],
		['sum an Int16Array', (a) => ((a[4] = new Int16Array(n)), a), /sum must be an Int32Array/],
		['sum short', (a) => ((a[4] = new Int32Array(n - 1)), a), /sum has length 159, shorter than frameSamples 160/],
		['an input a Uint16Array', (a) => ((a[0][2] = new Uint16Array(n)), a), /inputs\[2\] must be an Int16Array/],
		['an input a plain array', (a) => ((a[0][1] = new Array(n).fill(0)), a), /inputs\[1\] must be an Int16Array/],
		['an input missing', (a) => ((a[0][3] = undefined), a), /inputs\[3\] must be an Int16Array/],
		['an input short', (a) => ((a[0][1] = new Int16Array(100)), a), /inputs\[1\] has length 100, shorter than frameSamples 160/],
		['an inactive input short', (a) => ((a[1][1] = 0), (a[0][1] = new Int16Array(1)), a), /inputs\[1\] has length 1/],
		['an output short', (a) => ((a[5][3] = new Int16Array(159)), a), /outputs\[3\] has length 159/],
		['an output a Buffer', (a) => ((a[5][0] = Buffer.alloc(2 * n)), a), /outputs\[0\] must be an Int16Array/],
		[
			'an input detached',
			(a) => {
				const x = new Int16Array(n);
				structuredClone(x.buffer, { transfer: [x.buffer] });
				a[0][0] = x;
				return a;
			},
			/inputs\[0\] has length 0/,
		],
	];
	for (const [label, mutate, message] of cases) {
		it(`throws a TypeError: ${label}`, () => {
			const args = mutate(good());
			const outputs = Array.isArray(args[5]) ? args[5] : [];
			const before = outputs.map((o) => (ArrayBuffer.isView(o) ? o.slice() : o));
			for (const [kname, kernel] of kernels) {
				assert.throws(() => kernel(...args), (err) => {
					assert.ok(err instanceof TypeError, `${kname}: ${err}`);
					assert.match(err.message, message, kname);
					assert.match(err.code, /^ERR_(INVALID_ARG_TYPE|INVALID_ARG_VALUE|MISSING_ARGS)$/, kname);
					return true;
				});
			}
			outputs.forEach((o, i) => {
				if (ArrayBuffer.isView(o) && o.length > 0) {
					assert.ok(buffersEqual(o, before[i]), `outputs[${i}] written before the error`);
				}
			});
		});
	}

	it('lets an exception from an element getter through, and stays usable', () => {
		const args = good();
		Object.defineProperty(args[0], 2, {
			get() {
				throw new RangeError('boom');
			},
		});
		assert.throws(() => addon.mix(...args), /boom/);
		const c = makeCase(22, 3, n, 'full');
		checkCase(addon.mix, c, 3, n, 'after getter error');
	});

	it('refuses a reentrant call from a getter instead of corrupting its scratch', () => {
		const args = good();
		let inner;
		Object.defineProperty(args[5], 1, {
			get() {
				try {
					addon.mix(...good());
				} catch (error) {
					inner = error;
				}
				return new Int16Array(n);
			},
		});
		addon.mix(...args);
		assert.equal(inner?.code, 'ERR_INVALID_STATE');
	});

	it('detaching a buffer from a getter is caught before any pointer is taken', () => {
		const args = good();
		const victim = args[0][0];
		Object.defineProperty(args[5], 0, {
			get() {
				structuredClone(victim.buffer, { transfer: [victim.buffer] });
				return new Int16Array(n);
			},
		});
		assert.throws(() => addon.mix(...args), /inputs\[0\] has length 0/);
	});
});

// ---------------------------------------------------------------------------
// Worker threads: mixer workers each load the addon (context-aware module)

describe('worker threads', () => {
	it('loads and mixes in several workers at once', async () => {
		const src = `
			const { parentPort, workerData } = require('node:worker_threads');
			const m = require(workerData.path);
			const n = 960, count = 50;
			const inputs = [], outputs = [];
			for (let i = 0; i < count; i++) {
				inputs.push(new Int16Array(n).map((_, j) => ((i * 7919 + j * 104729) % 65536) - 32768));
				outputs.push(new Int16Array(n));
			}
			const active = new Uint8Array(count).map((_, i) => (i % 3 === 0 ? 1 : 0));
			const sum = new Int32Array(n);
			for (let k = 0; k < 200; k++) m.mix(inputs, active, count, n, sum, outputs);
			parentPort.postMessage({ simd: m.simd, out: outputs.map((o) => Array.from(o.subarray(0, 8))) });
		`;
		const run = () =>
			new Promise((resolve, reject) => {
				const w = new Worker(src, { eval: true, workerData: { path: addonPath } });
				w.once('message', resolve);
				w.once('error', reject);
			});
		const results = await Promise.all([run(), run(), run(), run()]);
		for (const r of results) {
			assert.equal(r.simd, addon.simd);
			assert.deepEqual(r.out, results[0].out);
		}
	});
});
