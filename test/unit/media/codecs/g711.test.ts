import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	ALAW_SILENCE,
	PCMA,
	PCMU,
	ULAW_SILENCE,
	alawToPcm,
	linearToAlaw,
	linearToUlaw,
	ulawToPcm,
} from '../../../../src/media/codecs/g711.js';
// The classic Sun g711.c, ported independently of src/ (reference for every value).
import {
	alaw2linear as refAlaw2linear,
	linear2alaw as refLinear2alaw,
	linear2ulaw as refLinear2ulaw,
	ulaw2linear as refUlaw2linear,
} from '../../../helpers/g711.js';

/** Half the quantisation step of the segment a code decodes in, plus the input truncation. */
function ulawBound(code: number): number {
	const seg = ((~code & 0xff) & 0x70) >> 4;
	return (4 << seg) + 3;
}

function alawBound(code: number): number {
	const seg = ((code ^ 0x55) & 0x70) >> 4;
	return (seg === 0 ? 8 : 8 << (seg - 1)) + 7;
}

function snrDb(x: Int16Array, y: Int16Array): number {
	let s = 0;
	let n = 0;
	for (let i = 0; i < x.length; i++) {
		s += x[i]! * x[i]!;
		n += (x[i]! - y[i]!) ** 2;
	}
	return 10 * Math.log10(s / n);
}

describe('G.711', () => {
	it('decodes the known values', () => {
		assert.equal(ulawToPcm(0xff), 0);
		assert.equal(ulawToPcm(0x7f), 0);
		assert.equal(ulawToPcm(0x00), -32124);
		assert.equal(ulawToPcm(0x80), 32124);
		assert.equal(alawToPcm(0xd5), 8);
		assert.equal(alawToPcm(0x55), -8);
		assert.equal(alawToPcm(0xaa), 32256);
		assert.equal(alawToPcm(0x2a), -32256);
		assert.equal(ulawToPcm(ULAW_SILENCE), 0);
		assert.equal(alawToPcm(ALAW_SILENCE), 8);
		assert.equal(linearToUlaw(0), 0xff);
		assert.equal(linearToAlaw(0), 0xd5);
		assert.equal(linearToUlaw(32767), 0x80);
		assert.equal(linearToUlaw(-32768), 0x00);
	});

	it('decode tables match the reference for all 256 codes', () => {
		for (let c = 0; c < 256; c++) {
			assert.equal(ulawToPcm(c), refUlaw2linear(c), `μ-law 0x${c.toString(16)}`);
			assert.equal(alawToPcm(c), refAlaw2linear(c), `A-law 0x${c.toString(16)}`);
		}
	});

	it('encode tables match the reference for every int16 sample', () => {
		for (let x = -32768; x <= 32767; x++) {
			const u = linearToUlaw(x);
			const a = linearToAlaw(x);
			if (u !== refLinear2ulaw(x) || a !== refLinear2alaw(x)) {
				assert.fail(`x=${x}: μ ${u} vs ${refLinear2ulaw(x)}, A ${a} vs ${refLinear2alaw(x)}`);
			}
		}
	});

	it('decode(encode(x)) stays within half a step, is monotonic, and clips only at the top', () => {
		let prevU = -Infinity;
		let prevA = -Infinity;
		for (let x = -32768; x <= 32767; x++) {
			const cu = linearToUlaw(x);
			const ca = linearToAlaw(x);
			const yu = ulawToPcm(cu);
			const ya = alawToPcm(ca);
			const eu = Math.abs(yu - x);
			const ea = Math.abs(ya - x);
			// Beyond the largest code the error is the clipping distance.
			const clipU = Math.abs(x) > 32124 ? Math.abs(x) - 32124 : 0;
			const clipA = Math.abs(x) > 32256 ? Math.abs(x) - 32256 : 0;
			if (eu > Math.max(ulawBound(cu), clipU) || ea > Math.max(alawBound(ca), clipA)) {
				assert.fail(`x=${x}: μ-law → ${yu} (±${ulawBound(cu)}), A-law → ${ya} (±${alawBound(ca)})`);
			}
			if (yu < prevU || ya < prevA) {
				assert.fail(`not monotonic at x=${x}`);
			}
			prevU = yu;
			prevA = ya;
		}
	});

	it('codec objects encode and decode with offsets, and a sine keeps ~38 dB SNR', () => {
		for (const codec of [PCMU, PCMA]) {
			assert.equal(codec.clockRate, 8000);
			assert.equal(codec.frameSamples(20), 160);
			assert.equal(codec.decodedSamples(240), 240);
			const n = 800;
			const pcm = new Int16Array(n + 10);
			for (let i = 0; i < n; i++) {
				pcm[i + 10] = Math.round(10000 * Math.sin((2 * Math.PI * 1000 * i) / 8000 + 0.3));
			}
			const bytes = Buffer.alloc(n + 5);
			assert.equal(codec.encode(pcm, 10, n, bytes, 5), n);
			for (let i = 0; i < n; i++) {
				const want = codec === PCMU ? linearToUlaw(pcm[i + 10]!) : linearToAlaw(pcm[i + 10]!);
				assert.equal(bytes[i + 5], want);
			}
			const out = new Int16Array(n + 3);
			assert.equal(codec.decode(bytes, 5, n, out, 3), n);
			assert.equal(out[0], 0, 'nothing written before outOff');
			const snr = snrDb(pcm.subarray(10), out.subarray(3));
			assert.ok(snr > 33 && snr < 45, `${codec.name} SNR ${snr.toFixed(1)} dB`);
		}
		assert.equal(PCMU.payloadType, 0);
		assert.equal(PCMA.payloadType, 8);
	});
});
