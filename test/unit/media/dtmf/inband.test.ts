import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InbandDtmfDetector } from '../../../../src/media/dtmf/inband.js';
import { g711Decode, g711Encode } from '../../../helpers/g711.js';

const RATE = 8000;
const ROWS: Record<string, number> = {};
const COLS: Record<string, number> = {};
const KEYPAD = ['123A', '456B', '789C', '*0#D'];
const ROW_HZ = [697, 770, 852, 941];
const COL_HZ = [1209, 1336, 1477, 1633];
for (let r = 0; r < 4; r++) {
	for (let c = 0; c < 4; c++) {
		const key = KEYPAD[r]![c]!;
		ROWS[key] = ROW_HZ[r]!;
		COLS[key] = COL_HZ[c]!;
	}
}
const ALL = '123A456B789C*0#D';

function samples(ms: number): number {
	return Math.round((RATE * ms) / 1000);
}

/** Builds a signal from parts: [digit, ms] tones (optional amplitudes) and [null, ms] silences. */
function signal(parts: Array<[string | null, number, number?, number?]>): Int16Array {
	const total = parts.reduce((n, [, ms]) => n + samples(ms), 0);
	const out = new Int16Array(total);
	let at = 0;
	for (const [digit, ms, rowAmp = 7000, colAmp = 8000] of parts) {
		const n = samples(ms);
		if (digit !== null) {
			const wr = (2 * Math.PI * ROWS[digit]!) / RATE;
			const wc = (2 * Math.PI * COLS[digit]!) / RATE;
			for (let i = 0; i < n; i++) {
				out[at + i] = Math.round(rowAmp * Math.sin(wr * i) + colAmp * Math.sin(wc * i + 1));
			}
		}
		at += n;
	}
	return out;
}

/** Digits detected, feeding `chunk` samples per call. */
function detect(pcm: Int16Array, chunk = 160, detector = new InbandDtmfDetector(RATE)): string {
	let found = '';
	for (let off = 0; off < pcm.length; off += chunk) {
		found += detector.process(pcm, off, Math.min(chunk, pcm.length - off));
	}
	return found;
}

function concat(...parts: Int16Array[]): Int16Array {
	const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
	let at = 0;
	for (const p of parts) {
		out.set(p, at);
		at += p.length;
	}
	return out;
}

function ulawRoundTrip(pcm: Int16Array): Int16Array {
	return g711Decode('PCMU', g711Encode('PCMU', pcm));
}

/** Deterministic uniform [0, 1) generator (mulberry32). */
function rng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function allDigits(toneMs: number, gapMs: number): Int16Array {
	return signal([...ALL].flatMap((d): Array<[string | null, number]> => [[d, toneMs], [null, gapMs]]));
}

describe('InbandDtmfDetector', () => {
	it('detects all 16 digits once each from 60 ms tones with 60 ms gaps, at any block alignment', () => {
		const seq = allDigits(60, 60);
		for (let lead = 0; lead < 160; lead += 9) {
			const pcm = concat(new Int16Array(lead), seq);
			assert.equal(detect(pcm), ALL, `lead-in of ${lead} samples`);
		}
	});

	it('does not care how the audio is chunked, and works through G.711 μ-law', () => {
		const pcm = concat(new Int16Array(51), allDigits(60, 60));
		assert.equal(detect(pcm, 97), ALL);
		assert.equal(detect(pcm, 1), ALL);
		assert.equal(detect(pcm, pcm.length - 3), ALL);
		assert.equal(detect(ulawRoundTrip(pcm)), ALL);
	});

	it('detects quiet and loud tones within the level range', () => {
		const quiet = signal([[null, 40], ['5', 80, 600, 700], [null, 80]]);
		const loud = signal([[null, 40], ['9', 80, 14000, 16000], [null, 80]]);
		assert.equal(detect(ulawRoundTrip(quiet)), '5');
		assert.equal(detect(ulawRoundTrip(loud)), '9');
		const tooQuiet = signal([[null, 40], ['5', 200, 150, 150], [null, 80]]);
		assert.equal(detect(tooQuiet), '');
	});

	it('accepts twist within limits and rejects excessive twist', () => {
		const amp = 10000;
		const at = (db: number): number => amp * 10 ** (-db / 20);
		// Normal twist (column weaker): 6 dB passes, 10 dB does not.
		assert.equal(detect(signal([['1', 100, amp, at(6)], [null, 60]])), '1');
		assert.equal(detect(signal([['1', 100, amp, at(10)], [null, 60]])), '');
		// Reverse twist (column stronger): 3 dB passes, 6 dB does not.
		assert.equal(detect(signal([['#', 100, at(3), amp], [null, 60]])), '#');
		assert.equal(detect(signal([['#', 100, at(6), amp], [null, 60]])), '');
	});

	it('rejects 30 ms tones (too short) at any alignment', () => {
		const seq = allDigits(30, 100);
		for (let lead = 0; lead < 160; lead += 7) {
			assert.equal(detect(concat(new Int16Array(lead), seq)), '', `lead-in of ${lead} samples`);
		}
	});

	it('gives two digits for two presses of the same key, one for a long press', () => {
		assert.equal(detect(signal([['5', 60], [null, 60], ['5', 60], [null, 60]])), '55');
		assert.equal(detect(signal([['5', 1000], [null, 60]])), '5');
		assert.equal(detect(signal([['5', 80], ['6', 80], [null, 60]])), '56');
	});

	it('stays silent on a single tone', () => {
		for (const f of [...ROW_HZ, ...COL_HZ]) {
			const n = samples(1000);
			const pcm = new Int16Array(n);
			for (let i = 0; i < n; i++) {
				pcm[i] = Math.round(12000 * Math.sin((2 * Math.PI * f * i) / RATE));
			}
			assert.equal(detect(pcm), '', `${f} Hz`);
		}
	});

	it('stays silent on white noise', () => {
		const random = rng(1);
		for (const amp of [300, 3000, 20000]) {
			const pcm = new Int16Array(samples(5000));
			for (let i = 0; i < pcm.length; i++) {
				pcm[i] = Math.round((random() * 2 - 1) * amp);
			}
			assert.equal(detect(pcm), '', `noise ±${amp}`);
		}
	});

	it('stays silent on a speech-like signal (harmonics, wandering pitch, syllable AM)', () => {
		// Voiced speech: a glottal-like harmonic series with a pitch that glides
		// through the whole range (so harmonics sweep across every DTMF tone),
		// formant-like emphasis, and 4 Hz syllable modulation.
		for (const [lo, hi] of [
			[85, 160],
			[150, 320],
			[100, 280],
		] as const) {
			const n = samples(8000);
			const pcm = new Int16Array(n);
			const phase = new Float64Array(40);
			for (let i = 0; i < n; i++) {
				const t = i / RATE;
				const f0 = lo + (hi - lo) * (0.5 + 0.5 * Math.sin(2 * Math.PI * 0.7 * t + 0.3 * Math.sin(2 * Math.PI * 2.3 * t)));
				const env = 0.55 + 0.45 * Math.sin(2 * Math.PI * 4 * t);
				let v = 0;
				for (let k = 1; k <= 40 && k * f0 < 3600; k++) {
					phase[k - 1] = (phase[k - 1]! + (2 * Math.PI * k * f0) / RATE) % (2 * Math.PI);
					const fk = k * f0;
					const formant =
						1 + 2.5 * Math.exp(-(((fk - 700) / 250) ** 2)) + 2 * Math.exp(-(((fk - 1220) / 300) ** 2)) + Math.exp(-(((fk - 2500) / 400) ** 2));
					v += (formant / k) * Math.sin(phase[k - 1]!);
				}
				pcm[i] = Math.round(4000 * env * v);
			}
			assert.equal(detect(ulawRoundTrip(pcm)), '', `pitch ${lo}-${hi} Hz`);
		}
	});

	it('stays silent on music-like chords', () => {
		const chords = [
			[261.63, 329.63, 392.0], // C major
			[220.0, 261.63, 329.63, 440.0], // A minor
			[392.0, 493.88, 587.33, 783.99], // G major, four voices
			[349.23, 440.0, 523.25, 698.46], // F major with F5 near 697 Hz
		];
		for (const chord of chords) {
			const n = samples(2000);
			const pcm = new Int16Array(n);
			for (let i = 0; i < n; i++) {
				const t = i / RATE;
				let v = 0;
				for (const f of chord) {
					// A few decaying harmonics and a little vibrato per note.
					const vib = 1 + 0.003 * Math.sin(2 * Math.PI * 5.5 * t);
					for (let k = 1; k <= 6; k++) {
						v += (0.6 ** (k - 1)) * Math.sin(2 * Math.PI * k * f * vib * t);
					}
				}
				pcm[i] = Math.round((3000 * v) / chord.length);
			}
			assert.equal(detect(ulawRoundTrip(pcm)), '', `chord ${chord.join('/')}`);
		}
	});

	it('detects digits over speech-level background noise', () => {
		const random = rng(9);
		const pcm = concat(new Int16Array(33), allDigits(80, 80));
		for (let i = 0; i < pcm.length; i++) {
			pcm[i] = pcm[i]! + Math.round((random() * 2 - 1) * 300);
		}
		assert.equal(detect(ulawRoundTrip(pcm)), ALL);
	});

	it('reset() drops a half-heard digit', () => {
		const d = new InbandDtmfDetector();
		const tone = signal([['7', 30]]);
		assert.equal(detect(tone, 160, d), '');
		d.reset();
		assert.equal(detect(signal([['7', 25], [null, 60]]), 160, d), '');
		assert.equal(detect(signal([['7', 60], [null, 60]]), 160, d), '7');
	});

	it('says which frames hold a tone, so the caller can keep digits out of the mix', () => {
		const d = new InbandDtmfDetector();
		const pcm = signal([[null, 40], ['3', 80], [null, 40]]);
		const active: boolean[] = [];
		for (let off = 0; off < pcm.length; off += 160) {
			d.process(pcm, off, 160);
			active.push(d.toneActive);
		}
		assert.deepEqual(active, [false, false, true, true, true, true, false, false]);
	});

	it('works at 16 kHz', () => {
		const d = new InbandDtmfDetector(16000);
		assert.equal(d.blockSize, 320);
		const n = 16000 * 0.08;
		const pcm = new Int16Array(n + 1600);
		for (let i = 0; i < n; i++) {
			pcm[i] = Math.round(7000 * Math.sin((2 * Math.PI * 852 * i) / 16000) + 8000 * Math.sin((2 * Math.PI * 1477 * i) / 16000));
		}
		assert.equal(detect(pcm, 320, d), '9');
	});
});
