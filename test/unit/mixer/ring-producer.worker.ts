/**
 * Test helper, run as a Worker by ring-buffer.test.ts (not a test itself):
 * writes frames 0..count-1 into the ring, frame k filled with the value k,
 * retrying while the ring is full so every frame gets through.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { PcmRing } from '../../../src/mixer/ring-buffer.js';

export interface ProducerData {
	sab: SharedArrayBuffer;
	count: number;
}

// A bare `node --test` treats files under test/ as tests; outside a worker this does nothing.
if (!isMainThread && parentPort) {
	const { sab, count } = workerData as ProducerData;
	const ring = new PcmRing(sab);
	const frame = new Int16Array(ring.frameSamples);
	const wait = new Int32Array(new SharedArrayBuffer(4));
	let full = 0;
	for (let k = 0; k < count; k++) {
		frame.fill(k);
		while (!ring.write(frame)) {
			full++;
			// Yield the core briefly (the machine may have few) without busy-spinning the whole time.
			if ((full & 63) === 0) {
				Atomics.wait(wait, 0, 0, 0.05);
			}
		}
	}
	parentPort.postMessage({ done: true, full });
}
