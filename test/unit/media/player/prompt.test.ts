import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Prompt, PromptCache } from '../../../../src/media/player/prompt.js';
import { WavError, encodeWav } from '../../../../src/media/wav.js';
import { rms, sine, toneRatio } from '../../../helpers/goertzel.js';

describe('Prompt', () => {
	let dir: string;
	before(async () => {
		dir = await mkdtemp(join(tmpdir(), 'confsrv-prompt-'));
	});
	after(async () => {
		await rm(dir, { recursive: true, force: true });
	});

	it('converts to another rate once, keeping length, tone and level, with the filter delay removed', () => {
		const p = new Prompt(sine(1000, 8000, 500, 10000), 8000);
		const wide = p.at(16000);
		assert.equal(wide.sampleRate, 16000);
		assert.equal(wide.samples.length, 16000 / 2);
		assert.ok(toneRatio(wide.samples, 16000, 1000) > 0.97);
		assert.ok(Math.abs(rms(wide.samples, 800, 7200) / rms(p.samples, 400, 3600) - 1) < 0.05, 'level kept');
		// Delay compensated: the phase lines up with a native 16 kHz tone to within
		// the even-length filter's half sample (1250 mean error; a whole sample would be 2500).
		const native = sine(1000, 16000, 500, 10000);
		let err = 0;
		for (let i = 800; i < 7200; i++) {
			err += Math.abs(wide.samples[i]! - native[i]!);
		}
		assert.ok(err / 6400 < 1400, `mean error ${err / 6400}`);
		assert.equal(p.at(16000), wide, 'same object the second time');
		assert.equal(p.at(8000), p);
		assert.equal(p.conversions, 1);
		const down = Prompt.tone(1000, 200, 48000).at(8000);
		assert.equal(down.samples.length, 1600);
		assert.ok(toneRatio(down.samples, 8000, 1000) > 0.97);
	});

	it('drops what the lower rate cannot carry (anti-aliasing, not sample dropping)', () => {
		const p = new Prompt(sine(6000, 16000, 300, 10000), 16000).at(8000);
		assert.ok(rms(p.samples) < 10000 * 0.707 * 0.01, `6 kHz through a 8 kHz conversion: rms ${rms(p.samples)}`);
	});

	it('refuses a rate that is not an integer ratio', () => {
		assert.throws(() => new Prompt(new Int16Array(441), 44100).at(16000), /cannot convert 44100 Hz to 16000 Hz/);
		assert.throws(() => new Prompt(new Int16Array(1), 0), RangeError);
	});

	it('PromptCache loads a file once and converts once per rate', async () => {
		const f = join(dir, 'hello.wav');
		await writeFile(f, encodeWav(sine(500, 8000, 300), 8000));
		const cache = new PromptCache();
		const [a, b] = await Promise.all([cache.get(f, 16000), cache.get(f, 16000)]);
		assert.equal(a, b);
		const c = await cache.get(join(dir, '.', 'hello.wav'), 16000);
		assert.equal(c, a);
		const orig = await cache.get(f, 8000);
		assert.equal(orig.conversions, 1);
		await cache.get(f, 48000);
		assert.equal(orig.conversions, 2);
		assert.equal(cache.size, 1);
	});

	it('PromptCache forgets a failed load, so a fixed file is picked up', async () => {
		const f = join(dir, 'later.wav');
		const cache = new PromptCache();
		await assert.rejects(cache.get(f, 8000), (e: unknown) => e instanceof WavError);
		await writeFile(f, Buffer.from('RIFF\0\0\0\0WAVE', 'latin1'));
		await assert.rejects(cache.get(f, 8000), /no fmt chunk/);
		await writeFile(f, encodeWav(sine(500, 8000, 100), 8000));
		assert.equal((await cache.get(f, 8000)).samples.length, 800);
	});
});
