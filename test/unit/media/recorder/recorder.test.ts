import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Recorder } from '../../../../src/media/recorder/recorder.js';
import { parseWav } from '../../../../src/media/wav.js';
import { sine, toneRatio } from '../../../helpers/goertzel.js';

const FS = 160;

describe('Recorder', () => {
	let dir: string;
	before(async () => {
		dir = await mkdtemp(join(tmpdir(), 'confsrv-rec-'));
	});
	after(async () => {
		await rm(dir, { recursive: true, force: true });
	});

	function feed(r: Recorder, pcm: Int16Array | null, frames: number): void {
		for (let k = 0; k < frames; k++) {
			if (pcm === null) {
				r.push(undefined, 0, FS);
			} else {
				r.push(pcm, (k * FS) % (pcm.length - FS + 1), FS);
			}
		}
	}

	it('records frames and silent ticks in wall time, and stops at maxMs by itself', async () => {
		const path = join(dir, 'a.wav');
		const r = new Recorder({ path, maxMs: 1000 }, 8000);
		const tone = sine(700, 8000, 400);
		feed(r, tone, 20);
		feed(r, null, 20);
		assert.equal(r.stopped, false);
		feed(r, tone, 20); // only 10 more fit
		assert.equal(r.stopped, true);
		const res = await r.done;
		assert.deepEqual(res, { path, durationMs: 1000, reason: 'maxMs' });
		const wav = parseWav(await readFile(path));
		assert.equal(wav.samples.length, 8000);
		assert.ok(toneRatio(wav.samples, 8000, 700, { to: 3200 }) > 0.95);
		assert.ok(wav.samples.subarray(3200, 6400).every((x) => x === 0));
	});

	it('trims leading and trailing silence, keeping a 100 ms margin', async () => {
		const path = join(dir, 'b.wav');
		const r = new Recorder({ path, trimSilence: true }, 8000);
		const noise = new Int16Array(FS).map((_, i) => (i % 2 ? 20 : -20)); // a quiet line: not sound
		feed(r, noise, 50);
		feed(r, sine(500, 8000, 600), 30);
		feed(r, null, 100);
		r.stop();
		const res = await r.done;
		assert.equal(res.reason, 'stopped');
		const wav = parseWav(await readFile(path));
		assert.equal(wav.samples.length, 800 + 30 * FS + 800);
		assert.equal(res.durationMs, 800);
		assert.ok(toneRatio(wav.samples, 8000, 500, { from: 800, to: 800 + 30 * FS }) > 0.95);
	});

	it('stops after stopOnSilenceMs of silence following sound, never before any sound', async () => {
		const path = join(dir, 'c.wav');
		const r = new Recorder({ path, stopOnSilenceMs: 400, trimSilence: true }, 8000);
		feed(r, null, 100);
		assert.equal(r.stopped, false, 'silence before speaking does not end it');
		feed(r, sine(500, 8000, 400), 10);
		feed(r, null, 19);
		assert.equal(r.stopped, false);
		feed(r, null, 1);
		assert.equal(r.stopped, true);
		const res = await r.done;
		assert.equal(res.reason, 'silence');
		assert.equal(res.durationMs, 100 + 200 + 100);
	});

	it('a recording with no sound at all trims to an empty file', async () => {
		const path = join(dir, 'd.wav');
		const r = new Recorder({ path, trimSilence: true }, 16000);
		feed(r, null, 10);
		r.stop();
		assert.equal((await r.done).durationMs, 0);
		assert.equal(parseWav(await readFile(path)).sampleRate, 16000);
	});

	it('rejects done when the file cannot be written, and bad options at once', async () => {
		const r = new Recorder({ path: join(dir, 'none', 'x.wav') }, 8000);
		await assert.rejects(r.done, /ENOENT/);
		assert.equal(r.stopped, true);
		assert.throws(() => new Recorder({ path: join(dir, 'e.wav'), maxMs: 0 }, 8000), RangeError);
		assert.throws(() => new Recorder({ path: '' }, 8000), TypeError);
	});
});
