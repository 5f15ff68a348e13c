import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Prompt } from '../../../../src/media/player/prompt.js';
import { PromptQueue } from '../../../../src/media/player/queue.js';

const FS = 160;

function ramp(n: number, start: number): Prompt {
	const s = new Int16Array(n);
	for (let i = 0; i < n; i++) {
		s[i] = start + i;
	}
	return new Prompt(s, 8000);
}

function frames(q: PromptQueue, k: number): number[] {
	const out: number[] = [];
	const f = new Int16Array(FS);
	for (let i = 0; i < k; i++) {
		if (!q.readInto(f, 0, FS)) {
			out.push(-1);
			continue;
		}
		out.push(...f);
	}
	return out;
}

describe('PromptQueue', () => {
	it('plays queued prompts back to back across frame borders, then zeros, then inactive', async () => {
		const q = new PromptQueue(8000);
		const a = q.play(ramp(100, 1000));
		const b = q.play(ramp(150, 5000));
		assert.equal(q.length, 2);
		const got = frames(q, 3);
		const want = [...ramp(100, 1000).samples, ...ramp(150, 5000).samples];
		assert.deepEqual(got.slice(0, 250), want);
		assert.ok(got.slice(250, 320).every((x) => x === 0));
		assert.equal(got[320], -1, 'nothing playing in the third frame');
		assert.equal(await a.done, 'finished');
		assert.equal(await b.done, 'finished');
		assert.equal(q.active, false);
	});

	it('loops until stopped, then plays what was queued behind', async () => {
		const q = new PromptQueue(8000);
		const moh = q.play(ramp(60, 100), { loop: true });
		const next = q.play(ramp(10, 9000));
		const got = frames(q, 2);
		for (let i = 0; i < 2 * FS; i++) {
			assert.equal(got[i], 100 + (i % 60));
		}
		moh.stop();
		moh.stop();
		assert.equal(await moh.done, 'stopped');
		const after = frames(q, 1);
		assert.deepEqual(after.slice(0, 10), [...ramp(10, 9000).samples]);
		assert.equal(await next.done, 'finished');
	});

	it('interrupt ends what plays and what is queued; stop() ends all; close() ends later plays at once', async () => {
		const q = new PromptQueue(8000);
		const a = q.play(ramp(1000, 0));
		const b = q.play(ramp(1000, 0));
		frames(q, 1);
		const c = q.play(ramp(1000, 20000), { mode: 'interrupt' });
		assert.equal(await a.done, 'interrupted');
		assert.equal(await b.done, 'interrupted');
		assert.equal(frames(q, 1)[0], 20000, 'the interrupting prompt starts at its first sample');
		q.stop();
		assert.equal(await c.done, 'stopped');
		const queued = q.play(ramp(10, 0));
		queued.stop();
		assert.equal(await queued.done, 'stopped');
		q.close();
		assert.equal(await q.play(ramp(10, 0)).done, 'closed');
		assert.equal(await q.play(new Prompt(new Int16Array(0), 8000)).done, 'closed');
		assert.throws(() => q.play({} as Prompt), TypeError);
		assert.throws(() => new PromptQueue(8000).play(ramp(1, 0), { mode: 'now' as 'queue' }), TypeError);
	});

	it('mixes on top of a frame, saturating', () => {
		const q = new PromptQueue(8000);
		q.play(new Prompt(new Int16Array(FS).fill(20000), 8000));
		const f = new Int16Array(FS).fill(20000);
		f[1] = -30000;
		assert.ok(q.mixInto(f, 0, FS));
		assert.equal(f[0], 32767);
		assert.equal(f[1], -10000);
		assert.equal(q.mixInto(f, 0, FS), false);
		q.play(new Prompt(new Int16Array(FS).fill(-20000), 8000));
		f.fill(-20000);
		q.mixInto(f, 0, FS);
		assert.equal(f[5], -32768);
	});

	it('plays a prompt at another rate converted to the queue rate', () => {
		const q = new PromptQueue(16000);
		const p = Prompt.tone(500, 100, 8000);
		q.play(p);
		q.play(p);
		assert.equal(p.conversions, 1);
		let n = 0;
		const f = new Int16Array(320);
		while (q.active) {
			q.readInto(f, 0, 320);
			n++;
		}
		assert.equal(n, 10, '2 × 100 ms at 16 kHz = 10 frames');
	});
});
