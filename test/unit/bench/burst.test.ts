import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BurstDetector, matchMarkers } from '../../../bench/analysis/burst.js';
import { ULAW_TABLE, ulawEncode } from '../../../bench/codec/g711.js';

interface Scenario {
	rate: number;
	/** Samples per packet. */
	frame: number;
	seconds: number;
	/** Burst onsets in samples. */
	bursts: number[];
	burstMs: number;
	burstAmp: number;
	/** Background tones (Hz, amplitude). */
	background: Array<[number, number]>;
	gain?: number;
	g711?: boolean;
}

/** Runs a synthetic stream through the detector; packet k arrives at 1000 + 20k + jitter(k) ms. */
function run(sc: Scenario, jitter: (k: number) => number = () => 0): { onsets: number[]; expected: number[] } {
	const total = sc.rate * sc.seconds;
	const x = new Int16Array(total);
	const burstLen = (sc.burstMs * sc.rate) / 1000;
	for (let i = 0; i < total; i++) {
		let v = 0;
		for (const [f, a] of sc.background) {
			v += a * Math.sin((2 * Math.PI * f * i) / sc.rate + f);
		}
		for (const b of sc.bursts) {
			if (i >= b && i < b + burstLen) {
				v += sc.burstAmp * Math.sin((2 * Math.PI * 2000 * (i - b)) / sc.rate + 0.3);
			}
		}
		v *= sc.gain ?? 1;
		v = Math.max(-32768, Math.min(32767, Math.round(v)));
		x[i] = sc.g711 ? ULAW_TABLE[ulawEncode(v)]! : v;
	}
	const det = new BurstDetector({ sampleRate: sc.rate, freq: 2000, threshold: 1500 });
	const arrival = (k: number): number => 1000 + 20 * k + jitter(k);
	for (let k = 0; k * sc.frame < total; k++) {
		det.push(x, k * sc.frame, sc.frame, arrival(k));
	}
	const expected = sc.bursts.map((b) => {
		const k = Math.floor(b / sc.frame);
		return arrival(k) + ((b - k * sc.frame) * 1000) / sc.rate;
	});
	return { onsets: det.onsets, expected };
}

function assertClose(onsets: number[], expected: number[], tolMs: number): void {
	assert.equal(onsets.length, expected.length, `onsets ${JSON.stringify(onsets)} vs ${JSON.stringify(expected)}`);
	for (let i = 0; i < expected.length; i++) {
		assert.ok(Math.abs(onsets[i]! - expected[i]!) <= tolMs, `onset ${i}: ${onsets[i]} vs ${expected[i]}`);
	}
}

const background: Array<[number, number]> = [
	[400, 3000],
	[1000, 2500],
	[1400, 2000],
];

test('finds a 2 kHz burst mid-packet under three talkers, to a quarter millisecond', () => {
	const { onsets, expected } = run({ rate: 8000, frame: 160, seconds: 3, bursts: [12_345, 20_000], burstMs: 60, burstAmp: 8000, background });
	assertClose(onsets, expected, 0.25);
});

test('through G.711 μ-law, with a mixer gain of 0.5 and arrival jitter', () => {
	const { onsets, expected } = run(
		{ rate: 8000, frame: 160, seconds: 3, bursts: [4_001, 16_150], burstMs: 60, burstAmp: 8000, background, gain: 0.5, g711: true },
		(k) => (k * 7) % 5,
	);
	assertClose(onsets, expected, 0.3);
});

test('a burst starting on the last or first sample of a packet', () => {
	const { onsets, expected } = run({ rate: 8000, frame: 160, seconds: 3, bursts: [16_159, 8_000], burstMs: 60, burstAmp: 8000, background });
	assertClose(onsets, expected.sort((a, b) => a - b), 0.25);
});

test('wideband and fullband rates', () => {
	for (const rate of [16_000, 48_000]) {
		const frame = rate / 50;
		const b = Math.round(rate * 1.234);
		const { onsets, expected } = run({ rate, frame, seconds: 2, bursts: [b], burstMs: 60, burstAmp: 8000, background });
		assertClose(onsets, expected, 0.25);
	}
});

test('no burst, no onset; a long burst is one onset', () => {
	assert.equal(run({ rate: 8000, frame: 160, seconds: 2, bursts: [], burstMs: 60, burstAmp: 8000, background }).onsets.length, 0);
	const { onsets, expected } = run({ rate: 8000, frame: 160, seconds: 3, bursts: [8000], burstMs: 600, burstAmp: 8000, background });
	assertClose(onsets, expected, 0.25);
});

test('matchMarkers: delays, misses, own echo, spurious onsets', () => {
	const sends = [
		{ at: 1000, from: 'a' },
		{ at: 2000, from: 'b' },
		{ at: 3000, from: 'me' },
		{ at: 4000, from: 'a' },
	];
	const m = matchMarkers(sends, [1045, 2050.5, 3040, 7000], 'me', 500);
	assert.deepEqual(m.delays, [45, 50.5]);
	assert.equal(m.missed, 1);
	assert.equal(m.selfHeard, 1);
	assert.equal(m.spurious, 1);
	const none = matchMarkers(sends, [], 'x', 500);
	assert.equal(none.missed, 4);
	assert.equal(none.delays.length, 0);
});
