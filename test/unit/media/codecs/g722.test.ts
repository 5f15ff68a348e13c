import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

import {
	G722_PAYLOAD_TYPE,
	G722_RTP_CLOCK_RATE,
	G722_SAMPLE_RATE,
	G722Decoder,
	G722Encoder,
} from '../../../../src/media/codecs/g722.js';
import { goertzelPower, mix, rms, sine, toneRatio } from '../../../helpers/goertzel.js';

const RATE = 16000;

function roundTrip(pcm: Int16Array, frame = 320): { bytes: Uint8Array; out: Int16Array } {
	const enc = new G722Encoder();
	const dec = new G722Decoder();
	const bytes = new Uint8Array(pcm.length >> 1);
	const out = new Int16Array(pcm.length);
	for (let i = 0; i < pcm.length; i += frame) {
		const n = Math.min(frame, pcm.length - i);
		assert.equal(enc.encode(pcm, i, n, bytes, i >> 1), n >> 1);
		assert.equal(dec.decode(bytes, i >> 1, n >> 1, out, i), n);
	}
	return { bytes, out };
}

/** The codec's delay in samples: the QMF analysis and synthesis filters. */
const DELAY = 22;

/** SNR in dB of y against x delayed by lag samples, skipping the start-up. */
function snrAt(x: Int16Array, y: Int16Array, lag: number, skip: number): number {
	let sig = 0;
	let err = 0;
	for (let i = skip; i + lag < y.length; i++) {
		const a = x[i] as number;
		const e = a - (y[i + lag] as number);
		sig += a * a;
		err += e * e;
	}
	return 10 * Math.log10(sig / Math.max(err, 1e-9));
}

function noise(n: number, amplitude: number, seed: number): Int16Array {
	const out = new Int16Array(n);
	for (let i = 0; i < n; i++) {
		seed = (seed * 1103515245 + 12345) >>> 0;
		out[i] = Math.round(((seed >>> 16) / 65536 - 0.5) * 2 * amplitude);
	}
	return out;
}

// spandsp (Debian's libspandsp2) is an independent G.722 implementation that
// passes the ITU-T test vectors; reached through Python's ctypes when both
// are on the machine.
const SPANDSP_SCRIPT = `
import ctypes, ctypes.util, sys
name = ctypes.util.find_library('spandsp')
if not name:
    sys.exit(3)
lib = ctypes.CDLL(name)
if sys.argv[1] == 'probe':
    sys.exit(0)
lib.g722_encode_init.restype = ctypes.c_void_p
lib.g722_decode_init.restype = ctypes.c_void_p
for f in (lib.g722_encode_init, lib.g722_decode_init):
    f.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
for f in (lib.g722_encode, lib.g722_decode):
    f.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
pcm = sys.stdin.buffer.read()
n = len(pcm) // 2
inp = ctypes.create_string_buffer(pcm, len(pcm))
enc = ctypes.create_string_buffer(n // 2)
m = lib.g722_encode(lib.g722_encode_init(None, 64000, 0), enc, inp, n)
dec = ctypes.create_string_buffer(m * 4)
k = lib.g722_decode(lib.g722_decode_init(None, 64000, 0), dec, enc, m)
sys.stdout.buffer.write(enc.raw[:m] + dec.raw[:k * 2])
`;

function spandspAvailable(): boolean {
	const r = spawnSync('python3', ['-c', SPANDSP_SCRIPT, 'probe'], { stdio: 'ignore' });
	return r.status === 0;
}

function runSpandsp(pcm: Int16Array): { bytes: Uint8Array; pcm: Int16Array } {
	const r = spawnSync('python3', ['-c', SPANDSP_SCRIPT, 'run'], {
		input: Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength),
		maxBuffer: 1 << 24,
	});
	assert.equal(r.status, 0, String(r.stderr));
	const m = pcm.length >> 1;
	const all = new Uint8Array(r.stdout);
	const bytes = all.slice(0, m);
	const dec = all.slice(m);
	return { bytes, pcm: new Int16Array(dec.buffer, dec.byteOffset, dec.byteLength >> 1) };
}

describe('G.722', () => {
	it('has the RTP constants of RFC 3551 (clock rate 8000 for 16 kHz audio)', () => {
		assert.equal(G722_PAYLOAD_TYPE, 9);
		assert.equal(G722_RTP_CLOCK_RATE, 8000);
		assert.equal(G722_SAMPLE_RATE, 16000);
	});

	it('encodes 2 samples per byte and decodes 2 samples per byte', () => {
		const pcm = sine(1000, RATE, 20);
		const bytes = new Uint8Array(160);
		assert.equal(new G722Encoder().encode(pcm, 0, 320, bytes, 0), 160);
		const out = new Int16Array(320);
		assert.equal(new G722Decoder().decode(bytes, 0, 160, out, 0), 320);
	});

	it(`delays by ${DELAY} samples`, (t) => {
		// Broadband noise: a tone would match at any lag modulo its period.
		const pcm = noise(RATE, 8000, 3);
		const { out } = roundTrip(pcm);
		let best = 0;
		for (let lag = 1; lag < 64; lag++) {
			if (snrAt(pcm, out, lag, 800) > snrAt(pcm, out, best, 800)) {
				best = lag;
			}
		}
		t.diagnostic(`white noise: SNR ${snrAt(pcm, out, best, 800).toFixed(1)} dB at delay ${best}`);
		assert.equal(best, DELAY);
	});

	for (const [freq, minSnr] of [
		[1000, 30],
		[5000, 20],
	] as const) {
		it(`round-trips a ${freq} Hz tone with SNR > ${minSnr} dB`, (t) => {
			const pcm = sine(freq, RATE, 1000, 10000);
			const { out } = roundTrip(pcm);
			const snr = snrAt(pcm, out, DELAY, 800);
			t.diagnostic(`${freq} Hz: SNR ${snr.toFixed(1)} dB`);
			assert.ok(snr > minSnr, `SNR ${snr.toFixed(1)} dB`);
			assert.ok(toneRatio(out, RATE, freq, { from: 800 }) > 0.95);
		});
	}

	it('keeps a tone in each sub-band of a two-tone signal', () => {
		const pcm = mix(sine(700, RATE, 1000, 6000), sine(6000, RATE, 1000, 6000));
		const { out } = roundTrip(pcm);
		const from = 1600;
		const low = toneRatio(out, RATE, 700, { from });
		const high = toneRatio(out, RATE, 6000, { from });
		assert.ok(low > 0.4 && low < 0.6, `700 Hz share ${low}`);
		assert.ok(high > 0.4 && high < 0.6, `6000 Hz share ${high}`);
		// Nothing appears at the mirror image of either tone across the 4 kHz split.
		const total = rms(out, from) ** 2 * (out.length - from);
		assert.ok(goertzelPower(out, RATE, 2000, from) / total < 0.01);
		assert.ok(goertzelPower(out, RATE, 7300, from) / total < 0.01);
	});

	it('keeps silence near silence', () => {
		const pcm = new Int16Array(RATE);
		const { out } = roundTrip(pcm);
		let peak = 0;
		for (const v of out) {
			peak = Math.max(peak, Math.abs(v));
		}
		assert.ok(peak <= 4, `peak ${peak}`);
	});

	it('returns to silence after a loud signal', () => {
		const pcm = new Int16Array(2 * RATE);
		pcm.set(sine(1000, RATE, 1000, 30000));
		const { out } = roundTrip(pcm);
		assert.ok(rms(out, RATE + 8000) < 4, `rms ${rms(out, RATE + 8000)}`);
	});

	it('is deterministic and keeps state per instance', () => {
		const a = mix(sine(440, RATE, 500, 9000), sine(3100, RATE, 500, 4000));
		const b = sine(6500, RATE, 500, 12000);
		const alone = roundTrip(a).bytes;
		assert.deepEqual(roundTrip(a).bytes, alone);

		// Two encoders fed alternately, frame by frame, give what each gives alone.
		const encA = new G722Encoder();
		const encB = new G722Encoder();
		const outA = new Uint8Array(a.length >> 1);
		const outB = new Uint8Array(b.length >> 1);
		for (let i = 0; i < a.length; i += 320) {
			encA.encode(a, i, 320, outA, i >> 1);
			encB.encode(b, i, 320, outB, i >> 1);
		}
		assert.deepEqual(outA, alone);
		assert.deepEqual(outB, roundTrip(b).bytes);
	});

	it('gives the same bytes whatever the chunk size', () => {
		const pcm = mix(sine(1200, RATE, 300, 8000), sine(5200, RATE, 300, 5000));
		const whole = roundTrip(pcm, pcm.length);
		const chunked = roundTrip(pcm, 2);
		assert.deepEqual(chunked.bytes, whole.bytes);
		assert.deepEqual(chunked.out, whole.out);
	});

	it('reset() returns to the initial state', () => {
		const pcm = sine(2500, RATE, 100, 12000);
		const enc = new G722Encoder();
		const first = new Uint8Array(800);
		const again = new Uint8Array(800);
		enc.encode(pcm, 0, 1600, first, 0);
		enc.reset();
		enc.encode(pcm, 0, 1600, again, 0);
		assert.deepEqual(again, first);
		const dec = new G722Decoder();
		const o1 = new Int16Array(1600);
		const o2 = new Int16Array(1600);
		dec.decode(first, 0, 800, o1, 0);
		dec.reset();
		dec.decode(first, 0, 800, o2, 0);
		assert.deepEqual(o2, o1);
	});

	it('writes at the given offsets and nowhere else', () => {
		const pcm = sine(1000, RATE, 20);
		const bytes = new Uint8Array(170).fill(0xaa);
		new G722Encoder().encode(pcm, 0, 320, bytes, 5);
		assert.equal(bytes[4], 0xaa);
		assert.equal(bytes[165], 0xaa);
		const out = new Int16Array(340).fill(7);
		new G722Decoder().decode(bytes, 5, 160, out, 10);
		assert.equal(out[9], 7);
		assert.equal(out[330], 7);
	});

	it('decodes any byte sequence without throwing, saturating at the rails', () => {
		const data = new Uint8Array(8000);
		let seed = 1;
		for (let i = 0; i < data.length; i++) {
			seed = (seed * 1103515245 + 12345) >>> 0;
			data[i] = seed >>> 24;
		}
		const out = new Int16Array(16000);
		assert.equal(new G722Decoder().decode(data, 0, data.length, out, 0), 16000);
	});

	it('rejects odd sample counts and short outputs', () => {
		const enc = new G722Encoder();
		const pcm = new Int16Array(320);
		assert.throws(() => enc.encode(pcm, 0, 319, new Uint8Array(160), 0), RangeError);
		assert.throws(() => enc.encode(pcm, 0, 320, new Uint8Array(159), 0), RangeError);
		assert.throws(() => enc.encode(pcm, 2, 320, new Uint8Array(160), 0), RangeError);
		assert.throws(() => new G722Decoder().decode(new Uint8Array(160), 0, 160, new Int16Array(319), 0), RangeError);
	});

	const spandsp = spandspAvailable();
	it('matches libspandsp bit for bit', { skip: spandsp ? false : 'python3 or libspandsp not available' }, () => {
		// Speech-like level: loud enough to exercise the adaptation, never
		// clipping on decode (spandsp 0.0.6 wraps where this decoder saturates).
		const pcm = mix(sine(300, RATE, 2000, 7000), sine(1700, RATE, 2000, 5000), sine(5500, RATE, 2000, 3000));
		let seed = 7;
		for (let i = 0; i < pcm.length; i++) {
			seed = (seed * 1103515245 + 12345) >>> 0;
			pcm[i] = (pcm[i] as number) + ((seed >>> 20) - 2048);
		}
		const { bytes, out } = roundTrip(pcm, 320);
		const ref = runSpandsp(pcm);
		assert.equal(ref.bytes.length, bytes.length);
		assert.deepEqual(bytes, ref.bytes, 'encoder output differs from spandsp');
		assert.deepEqual(out, ref.pcm, 'decoder output differs from spandsp');
	});
});
