import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { PcmRing } from '../../../src/mixer/ring-buffer.js';

function frameOf(fs: number, value: number): Int16Array {
	return new Int16Array(fs).fill(value);
}

describe('PcmRing', () => {
	it('rounds slots up to a power of two', () => {
		assert.equal(PcmRing.create(5, 160).slots, 8);
		assert.equal(PcmRing.create(8, 160).slots, 8);
		assert.equal(PcmRing.create(1, 160).slots, 1);
	});

	it('rejects bad sizes and foreign buffers', () => {
		assert.throws(() => PcmRing.create(4, 0), TypeError);
		assert.throws(() => PcmRing.create(4, 1.5), TypeError);
		assert.throws(() => PcmRing.create(Infinity, 160), TypeError);
		assert.throws(() => new PcmRing(new SharedArrayBuffer(64)), TypeError);
	});

	it('keeps frames in order across many wrap-arounds', () => {
		const ring = PcmRing.create(4, 8);
		const out = new Int16Array(8);
		// Fill three, drain one, at an offset, so reads and writes cross the wrap at different slots.
		let next = 0;
		let expect = 0;
		for (let round = 0; round < 1000; round++) {
			while (ring.available() < 3) {
				assert.equal(ring.write(frameOf(8, next++)), true);
			}
			assert.equal(ring.read(out), true);
			assert.deepEqual(out, frameOf(8, expect++));
		}
		while (ring.read(out)) {
			assert.deepEqual(out, frameOf(8, expect++));
		}
		assert.equal(expect, next);
		assert.ok(next > 250 * ring.slots);
		assert.equal(ring.overflows, 0);
		assert.equal(ring.skipped, 0);
		assert.equal(ring.read(out), false);
	});

	it('pads a short frame with silence and truncates a long one', () => {
		const ring = PcmRing.create(2, 4);
		const out = new Int16Array(4);
		ring.write(new Int16Array([1, 2]));
		ring.write(new Int16Array([5, 6, 7, 8, 9, 10]));
		ring.read(out);
		assert.deepEqual([...out], [1, 2, 0, 0]);
		ring.read(out);
		assert.deepEqual([...out], [5, 6, 7, 8]);
	});

	it('drops new frames when full and counts them', () => {
		const ring = PcmRing.create(4, 4);
		const out = new Int16Array(4);
		for (let k = 0; k < 4; k++) {
			assert.equal(ring.write(frameOf(4, k)), true);
		}
		assert.equal(ring.write(frameOf(4, 100)), false);
		assert.equal(ring.write(frameOf(4, 101)), false);
		assert.equal(ring.overflows, 2);
		assert.equal(ring.available(), 4);
		// The old frames survive; the dropped ones never appear.
		for (let k = 0; k < 4; k++) {
			assert.equal(ring.read(out), true);
			assert.deepEqual(out, frameOf(4, k));
		}
		assert.equal(ring.read(out), false);
	});

	it('skips the oldest frames beyond maxBacklog and counts them', () => {
		const ring = PcmRing.create(8, 4);
		const out = new Int16Array(4);
		for (let k = 0; k < 7; k++) {
			ring.write(frameOf(4, k));
		}
		assert.equal(ring.read(out, 3), true);
		// 7 queued, keep 3 (4, 5, 6): 0..3 skipped, 4 read.
		assert.deepEqual(out, frameOf(4, 4));
		assert.equal(ring.skipped, 4);
		assert.equal(ring.available(), 2);
		assert.equal(ring.read(out, 3), true);
		assert.deepEqual(out, frameOf(4, 5));
		assert.equal(ring.skipped, 4);
	});

	it('treats maxBacklog below 1 as 1 and never reads past the writer', () => {
		const ring = PcmRing.create(4, 4);
		const out = new Int16Array(4);
		ring.write(frameOf(4, 1));
		ring.write(frameOf(4, 2));
		assert.equal(ring.read(out, 0), true);
		assert.deepEqual(out, frameOf(4, 2));
		assert.equal(ring.available(), 0);
		assert.equal(ring.read(out, 0), false);
		ring.write(frameOf(4, 3));
		assert.equal(ring.available(), 1);
		assert.equal(ring.read(out), true);
		assert.deepEqual(out, frameOf(4, 3));
	});

	it('clear() drops everything queued', () => {
		const ring = PcmRing.create(4, 4);
		ring.write(frameOf(4, 1));
		ring.write(frameOf(4, 2));
		ring.clear();
		assert.equal(ring.available(), 0);
		assert.equal(ring.read(new Int16Array(4)), false);
	});

	it('attaches to an existing buffer and shares its state', () => {
		const a = PcmRing.create(4, 160);
		const b = new PcmRing(a.sab);
		assert.equal(b.slots, 4);
		assert.equal(b.frameSamples, 160);
		a.write(frameOf(160, 42));
		assert.equal(b.available(), 1);
		const out = new Int16Array(160);
		assert.equal(b.read(out), true);
		assert.deepEqual(out, frameOf(160, 42));
		assert.equal(a.available(), 0);
	});

	it('hands whole frames, in order, from a producer thread to a consumer', async () => {
		const fs = 4096;
		const count = 30000;
		const ring = PcmRing.create(8, fs);
		const worker = new Worker(new URL('./ring-producer.worker.js', import.meta.url), {
			workerData: { sab: ring.sab, count },
		});
		const exited = once(worker, 'exit');
		const out = new Int16Array(fs);
		let last = -1;
		let frames = 0;
		let torn = 0;
		let reordered = 0;
		let reads = 0;
		// A safety stop in case the producer dies; not a timing assertion.
		const giveUp = Date.now() + 60_000;
		try {
			while (last < count - 1 && Date.now() < giveUp) {
				// Mostly plain reads; every 7th uses a backlog limit so skipping races the writer too.
				const ok = ++reads % 7 === 0 ? ring.read(out, 2) : ring.read(out);
				if (!ok) {
					continue;
				}
				const k = out[0]!;
				for (let j = 1; j < fs; j++) {
					if (out[j] !== k) {
						torn++;
						break;
					}
				}
				if (k <= last) {
					reordered++;
				}
				last = k;
				frames++;
			}
		} finally {
			// Frees a producer left waiting on a full ring when the loop stopped early.
			await worker.terminate();
			await exited;
		}
		assert.equal(torn, 0, 'every frame read is whole');
		assert.equal(reordered, 0, 'frame numbers strictly increase');
		assert.equal(last, count - 1, 'the last frame arrived');
		// Everything arrived except what the backlog-limited reads skipped.
		assert.equal(frames + ring.skipped, count);
	});
});
