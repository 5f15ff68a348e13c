import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { alaw2linear, g711Decode, g711Encode, linear2alaw, linear2ulaw, ulaw2linear } from '../../helpers/g711.js';
import { sine, toneRatio } from '../../helpers/goertzel.js';

/**
 * Largest round-trip error allowed: the Sun encoder truncates, so the error is
 * below one quantisation step, i.e. 16 near zero and at most 1/16 of the value
 * above (steps double per segment; measured worst: 5 % μ-law, 3.1 % A-law).
 */
function bound(x: number): number {
	return Math.max(16, Math.abs(x) / 16);
}

describe('test helper: g711 (Sun g711.c)', () => {
	it('has the known code points', () => {
		assert.equal(linear2ulaw(0), 0xff);
		assert.equal(ulaw2linear(0xff), 0);
		assert.equal(ulaw2linear(0x7f), 0);
		assert.equal(ulaw2linear(0x80), 32124);
		assert.equal(ulaw2linear(0x00), -32124);
		assert.equal(linear2alaw(0), 0xd5);
		assert.equal(alaw2linear(0xd5), 8);
		assert.equal(alaw2linear(0x55), -8);
		assert.equal(alaw2linear(0xaa), 32256);
		assert.equal(alaw2linear(0x2a), -32256);
		assert.equal(linear2ulaw(32767), 0x80);
		assert.equal(linear2ulaw(-32768), 0x00);
		assert.equal(linear2alaw(32767), 0xaa);
		assert.equal(linear2alaw(-32768), 0x2a);
	});

	it('round-trips every 16-bit value within the quantisation bound', () => {
		let worstU = 0;
		let worstA = 0;
		for (let x = -32768; x <= 32767; x++) {
			const u = ulaw2linear(linear2ulaw(x));
			const a = alaw2linear(linear2alaw(x));
			// clipping: μ-law tops at ±32124, A-law at ±32256
			const xu = Math.max(-32124, Math.min(32124, x));
			const xa = Math.max(-32256, Math.min(32256, x));
			const eu = Math.abs(u - xu);
			const ea = Math.abs(a - xa);
			assert.ok(eu <= bound(x), `μ-law ${x} → ${u}`);
			assert.ok(ea <= bound(x), `A-law ${x} → ${a}`);
			worstU = Math.max(worstU, eu);
			worstA = Math.max(worstA, ea);
		}
		assert.ok(worstU <= 1024 && worstA <= 1024);
	});

	it('is idempotent on code words (decode then encode gives the code back)', () => {
		for (let c = 0; c < 256; c++) {
			const u = linear2ulaw(ulaw2linear(c));
			// 0x7f is "negative zero" and encodes back as 0xff
			assert.equal(u, c === 0x7f ? 0xff : c, `μ-law code ${c}`);
			assert.equal(linear2alaw(alaw2linear(c)), c, `A-law code ${c}`);
		}
	});

	it('keeps a tone a tone through encode/decode', () => {
		const s = sine(1000, 8000, 500, 8000);
		for (const law of ['PCMU', 'PCMA'] as const) {
			const d = g711Decode(law, g711Encode(law, s));
			assert.equal(d.length, s.length);
			assert.ok(toneRatio(d, 8000, 1000) > 0.99, law);
		}
	});
});
