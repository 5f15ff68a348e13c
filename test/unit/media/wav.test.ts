import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WavError, WavWriter, encodeWav, parseWav, readWav } from '../../../src/media/wav.js';
import { sine } from '../../helpers/goertzel.js';

/** A canonical 44-byte header with chosen fields, followed by `data`. */
function wavWith(format: number, channels: number, rate: number, bits: number, data: Buffer): Buffer {
	const h = Buffer.alloc(44);
	h.write('RIFF', 0, 'latin1');
	h.writeUInt32LE(36 + data.length, 4);
	h.write('WAVE', 8, 'latin1');
	h.write('fmt ', 12, 'latin1');
	h.writeUInt32LE(16, 16);
	h.writeUInt16LE(format, 20);
	h.writeUInt16LE(channels, 22);
	h.writeUInt32LE(rate, 24);
	h.writeUInt32LE((rate * channels * bits) / 8, 28);
	h.writeUInt16LE((channels * bits) / 8, 32);
	h.writeUInt16LE(bits, 34);
	h.write('data', 36, 'latin1');
	h.writeUInt32LE(data.length, 40);
	return Buffer.concat([h, data]);
}

describe('WAV', () => {
	let dir: string;
	before(async () => {
		dir = await mkdtemp(join(tmpdir(), 'confsrv-wav-'));
	});
	after(async () => {
		await rm(dir, { recursive: true, force: true });
	});

	it('round-trips PCM16 mono at any rate, byte-exact with the canonical header', () => {
		for (const rate of [8000, 11025, 16000, 44100, 48000]) {
			const s = sine(440, rate, 100, 12000);
			s[0] = -32768;
			s[1] = 32767;
			const buf = encodeWav(s, rate);
			assert.equal(buf.length, 44 + 2 * s.length);
			assert.deepEqual(buf.subarray(0, 44), wavWith(1, 1, rate, 16, Buffer.alloc(2 * s.length)).subarray(0, 44));
			assert.equal(buf.readUInt32LE(40), 2 * s.length);
			const back = parseWav(buf);
			assert.equal(back.sampleRate, rate);
			assert.deepEqual(back.samples, s);
		}
	});

	it('skips unknown chunks (LIST) and odd padding, and reads WAVE_FORMAT_EXTENSIBLE PCM', () => {
		const pcm = Buffer.from([1, 0, 2, 0, 0xff, 0xff]);
		const plain = wavWith(1, 1, 8000, 16, pcm);
		const list = Buffer.concat([Buffer.from('LIST', 'latin1'), Buffer.from([3, 0, 0, 0, 9, 9, 9, 0])]);
		const withList = Buffer.concat([plain.subarray(0, 36), list, plain.subarray(36)]);
		assert.deepEqual(parseWav(withList).samples, Int16Array.of(1, 2, -1));
		// Extensible: fmt of 40 bytes, sub-format GUID starting with 0x0001.
		const fmt = Buffer.alloc(48);
		fmt.write('fmt ', 0, 'latin1');
		fmt.writeUInt32LE(40, 4);
		fmt.writeUInt16LE(0xfffe, 8);
		fmt.writeUInt16LE(1, 10);
		fmt.writeUInt32LE(16000, 12);
		fmt.writeUInt32LE(32000, 16);
		fmt.writeUInt16LE(2, 20);
		fmt.writeUInt16LE(16, 22);
		fmt.writeUInt16LE(22, 24);
		fmt.writeUInt16LE(16, 26);
		fmt.writeUInt16LE(1, 32);
		const data = Buffer.concat([Buffer.from('data', 'latin1'), Buffer.from([6, 0, 0, 0]), pcm]);
		const ext = Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVE', 'latin1'), fmt, data]);
		const got = parseWav(ext);
		assert.equal(got.sampleRate, 16000);
		assert.deepEqual(got.samples, Int16Array.of(1, 2, -1));
	});

	it('refuses stereo, 8-bit, float and μ-law files with WAV_UNSUPPORTED naming the format', () => {
		const cases: Array<[number, number, number, RegExp]> = [
			[1, 2, 16, /16-bit PCM, 2 channels/],
			[1, 1, 8, /8-bit PCM/],
			[3, 1, 32, /32-bit float/],
			[7, 1, 8, /μ-law/],
		];
		for (const [format, channels, bits, re] of cases) {
			assert.throws(
				() => parseWav(wavWith(format, channels, 8000, bits, Buffer.alloc(8)), 'x.wav'),
				(e: unknown) => e instanceof WavError && e.code === 'WAV_UNSUPPORTED' && re.test(e.message) && e.message.includes('x.wav'),
			);
		}
	});

	it('refuses what is not a WAV file with WAV_INVALID', () => {
		const bad = [
			Buffer.alloc(0),
			Buffer.from('RIFF\0\0\0\0AVI LIST', 'latin1'),
			Buffer.from('RIFF\0\0\0\0WAVE', 'latin1'),
			Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVEdata', 'latin1'), Buffer.from([2, 0, 0, 0, 1, 0])]),
			wavWith(1, 1, 8000, 16, Buffer.alloc(4)).subarray(0, 30),
		];
		for (const b of bad) {
			assert.throws(() => parseWav(b), (e: unknown) => e instanceof WavError && e.code === 'WAV_INVALID');
		}
	});

	it('reads a file whose data size a crashed writer left at 0', async () => {
		const f = join(dir, 'crashed.wav');
		const buf = encodeWav(Int16Array.of(5, 6, 7), 8000);
		buf.writeUInt32LE(0, 40);
		await writeFile(f, buf);
		assert.deepEqual((await readWav(f)).samples, Int16Array.of(5, 6, 7));
		await assert.rejects(readWav(join(dir, 'missing.wav')), (e: unknown) => e instanceof WavError && e.code === 'WAV_INVALID');
	});

	it('WavWriter streams past its chunk size, truncates on close and fixes the header', async () => {
		const f = join(dir, 'stream.wav');
		const w = new WavWriter(f, 16000);
		const s = sine(300, 16000, 4000, 9000); // 64000 samples: more than one 48000-sample chunk
		for (let off = 0; off < s.length; off += 320) {
			w.append(s, off, 320);
		}
		w.appendSilence(1600);
		assert.equal(w.samples, s.length + 1600);
		assert.equal(await w.close(s.length + 100), s.length + 100);
		const back = parseWav(await readFile(f));
		assert.equal(back.sampleRate, 16000);
		assert.equal(back.samples.length, s.length + 100);
		assert.deepEqual(back.samples.subarray(0, s.length), s);
		assert.ok(back.samples.subarray(s.length).every((x) => x === 0));
		await assert.rejects(w.close(), /already closed/);
	});

	it('WavWriter reports a file it cannot create', async () => {
		const w = new WavWriter(join(dir, 'no', 'such', 'dir.wav'), 8000);
		await assert.rejects(w.ready);
		w.append(new Int16Array(160), 0, 160);
		await assert.rejects(w.close(), /ENOENT/);
		assert.throws(() => new WavWriter(join(dir, 'x.wav'), 7), RangeError);
	});
});
