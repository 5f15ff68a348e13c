import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SILENCE_DB, TalkerDetector, selectLoudest } from '../../../src/mixer/talker.js';

/** One 20 ms frame of a 500 Hz sine at `db` dBFS (re a full-scale sine); -Infinity gives silence. */
function frameAt(db: number): Int16Array {
	const out = new Int16Array(160);
	if (db === Number.NEGATIVE_INFINITY) {
		return out;
	}
	const amp = 32767 * 10 ** (db / 20);
	for (let i = 0; i < 160; i++) {
		out[i] = Math.round(amp * Math.sin((2 * Math.PI * 500 * i) / 8000));
	}
	return out;
}

/** Pushes `count` frames at `db`; returns [frame index, change] for each change. */
function feed(t: TalkerDetector, db: number, count: number): Array<[number, string]> {
	const frame = frameAt(db);
	const changes: Array<[number, string]> = [];
	for (let i = 0; i < count; i++) {
		const c = t.push(frame, frame.length);
		if (c !== null) {
			changes.push([i, c]);
		}
	}
	return changes;
}

describe('TalkerDetector', () => {
	it('starts after startMs above startDb and stops after stopMs below stopDb', () => {
		const t = new TalkerDetector();
		assert.deepEqual(feed(t, -80, 10), []);
		// 60 ms = 3 frames: the third loud frame starts.
		assert.deepEqual(feed(t, -20, 10), [[2, 'start']]);
		assert.equal(t.talking, true);
		// 600 ms = 30 frames: the 30th quiet frame stops.
		assert.deepEqual(feed(t, -70, 40), [[29, 'stop']]);
		assert.equal(t.talking, false);
	});

	it('ignores bursts shorter than startMs and pauses shorter than stopMs', () => {
		const t = new TalkerDetector();
		for (let k = 0; k < 5; k++) {
			assert.deepEqual(feed(t, -20, 2), []);
			assert.deepEqual(feed(t, -80, 3), []);
		}
		assert.deepEqual(feed(t, -20, 3), [[2, 'start']]);
		for (let k = 0; k < 5; k++) {
			assert.deepEqual(feed(t, -80, 25), []);
			assert.deepEqual(feed(t, -20, 1), []);
		}
		assert.equal(t.talking, true);
	});

	it('keeps its state for levels between the stop and start thresholds', () => {
		const t = new TalkerDetector({ startDb: -40, stopDb: -50 });
		// Not talking: -45 dBFS never starts.
		assert.deepEqual(feed(t, -45, 100), []);
		assert.equal(t.talking, false);
		feed(t, -30, 3);
		assert.equal(t.talking, true);
		// Talking: -45 dBFS never stops, and resets the silence count.
		assert.deepEqual(feed(t, -45, 100), []);
		assert.deepEqual(feed(t, -60, 29), []);
		assert.deepEqual(feed(t, -45, 1), []);
		assert.deepEqual(feed(t, -60, 29), []);
		assert.equal(t.talking, true);
		assert.deepEqual(feed(t, -60, 1), [[0, 'stop']]);
	});

	it('reports a smoothed level in dBFS', () => {
		const t = new TalkerDetector();
		assert.equal(t.level, SILENCE_DB);
		feed(t, -20, 20);
		assert.ok(Math.abs(t.level - -20) < 0.2, `level ${t.level}`);
		assert.ok(Math.abs(t.frameLevel - -20) < 0.2);
		// Fast attack, slow release: one quiet frame drops the level only a little.
		feed(t, Number.NEGATIVE_INFINITY, 1);
		assert.equal(t.frameLevel, SILENCE_DB);
		assert.ok(t.level > -22 && t.level < -20, `level ${t.level}`);
		feed(t, Number.NEGATIVE_INFINITY, 200);
		assert.ok(t.level < -90);
	});

	it('pairs every start with a stop, also when the leg leaves', () => {
		const t = new TalkerDetector();
		const events: string[] = [];
		const frameLoud = frameAt(-20);
		const frameQuiet = frameAt(-80);
		// Talk, pause, talk, then leave mid-sentence.
		for (const [frame, n] of [
			[frameLoud, 10],
			[frameQuiet, 40],
			[frameLoud, 10],
		] as const) {
			for (let i = 0; i < n; i++) {
				const c = t.push(frame, frame.length);
				if (c !== null) {
					events.push(c);
				}
			}
		}
		if (t.forceStop()) {
			events.push('stop');
		}
		assert.deepEqual(events, ['start', 'stop', 'start', 'stop']);
		assert.equal(t.talking, false);
		// Nothing to pair after a stop, and a fresh start needs startMs again.
		assert.equal(t.forceStop(), false);
		assert.deepEqual(feed(t, -20, 3), [[2, 'start']]);
	});

	it('validates its options', () => {
		assert.throws(() => new TalkerDetector({ startDb: -50, stopDb: -40 }), RangeError);
		assert.throws(() => new TalkerDetector({ frameMs: 0 }), RangeError);
		assert.throws(() => new TalkerDetector({ stopMs: -1 }), RangeError);
	});
});

describe('selectLoudest', () => {
	it('marks the K loudest active legs', () => {
		const levels = Float32Array.from([-30, -10, -50, -20, Number.NEGATIVE_INFINITY, -15]);
		const out = new Uint8Array(6);
		selectLoudest(levels, 6, 3, out);
		assert.deepEqual([...out], [0, 1, 0, 1, 0, 1]);
	});

	it('never selects inactive legs, so fewer than K may be marked', () => {
		const levels = Float32Array.from([Number.NEGATIVE_INFINITY, -40, Number.NaN, Number.NEGATIVE_INFINITY]);
		const out = new Uint8Array(4);
		selectLoudest(levels, 4, 3, out);
		assert.deepEqual([...out], [0, 1, 0, 0]);
		selectLoudest(levels, 4, 0, out);
		assert.deepEqual([...out], [0, 0, 0, 0]);
	});

	it('only looks at the first count entries', () => {
		const levels = Float32Array.from([-30, -20, -10, -5]);
		const out = new Uint8Array(4).fill(7);
		selectLoudest(levels, 2, 5, out);
		assert.deepEqual([...out], [1, 1, 7, 7]);
		assert.throws(() => selectLoudest(levels, 5, 1, new Uint8Array(5)), RangeError);
	});

	it('does not flap between two talkers of about the same level', () => {
		const out = new Uint8Array(3);
		const levels = new Float32Array(3);
		let switches = 0;
		let prev = -1;
		for (let frame = 0; frame < 200; frame++) {
			// Two talkers within ±1 dB of each other, alternating who is louder.
			levels[0] = -20 + (frame % 2 === 0 ? 1 : -1);
			levels[1] = -20 + (frame % 2 === 0 ? -1 : 1);
			levels[2] = -45;
			selectLoudest(levels, 3, 1, out);
			const chosen = out.indexOf(1);
			if (prev !== -1 && chosen !== prev) {
				switches++;
			}
			prev = chosen;
		}
		assert.equal(switches, 0);
		// A clearly louder newcomer (more than the 3 dB hysteresis) takes over.
		levels[2] = -10;
		selectLoudest(levels, 3, 1, out);
		assert.deepEqual([...out], [0, 0, 1]);
		// And one just 2 dB louder than the incumbent does not.
		levels[0] = -8;
		selectLoudest(levels, 3, 1, out);
		assert.deepEqual([...out], [0, 0, 1]);
	});

	it('drops a selected leg as soon as it stops talking', () => {
		const levels = Float32Array.from([-20, -25, -30]);
		const out = new Uint8Array(3);
		selectLoudest(levels, 3, 2, out);
		assert.deepEqual([...out], [1, 1, 0]);
		levels[0] = Number.NEGATIVE_INFINITY;
		selectLoudest(levels, 3, 2, out);
		assert.deepEqual([...out], [0, 1, 1]);
	});
});
