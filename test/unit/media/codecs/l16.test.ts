import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { L16_16000, L16_8000, createCodec } from '../../../../src/media/codecs/index.js';

describe('L16', () => {
	it('writes network byte order (big-endian)', () => {
		const pcm = Int16Array.of(0x0102, -2, 32767, -32768, 0);
		const out = Buffer.alloc(12, 0xee);
		assert.equal(L16_8000.encode(pcm, 0, 5, out, 1), 10);
		assert.deepEqual([...out], [0xee, 0x01, 0x02, 0xff, 0xfe, 0x7f, 0xff, 0x80, 0x00, 0x00, 0x00, 0xee]);
	});

	it('reads network byte order and ignores an odd trailing byte', () => {
		const payload = Buffer.from([0x99, 0x01, 0x02, 0xff, 0xfe, 0x80, 0x00, 0x7f]);
		const out = new Int16Array(5);
		assert.equal(L16_16000.decodedSamples(7), 3);
		assert.equal(L16_16000.decode(payload, 1, 7, out, 1), 3);
		assert.deepEqual([...out], [0, 0x0102, -2, -32768, 0]);
	});

	it('round-trips every sample value exactly', () => {
		const pcm = new Int16Array(65536);
		for (let i = 0; i < pcm.length; i++) {
			pcm[i] = i - 32768;
		}
		const bytes = Buffer.alloc(2 * pcm.length);
		L16_16000.encode(pcm, 0, pcm.length, bytes, 0);
		const back = new Int16Array(pcm.length);
		L16_16000.decode(bytes, 0, bytes.length, back, 0);
		assert.deepEqual(back, pcm);
	});

	it('has the rates the SDP says: L16/8000 and L16/16000', () => {
		assert.equal(createCodec('L16', 8000), L16_8000);
		assert.equal(createCodec('l16', 16000), L16_16000);
		assert.equal(L16_8000.sampleRate, 8000);
		assert.equal(L16_16000.clockRate, 16000);
		assert.equal(L16_16000.frameSamples(20), 320);
		assert.throws(() => createCodec('L16', 44100), { code: 'UNSUPPORTED' });
		assert.throws(() => createCodec('L16', 48000), { code: 'UNSUPPORTED' });
	});
});
