import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpReceiveStats } from '../../../bench/analysis/rtp-stats.js';

/** Feeds packets seq0+i (i in `order`), ts 160 per packet, arriving at t0 + 20·i + extra(i) ms. */
function feed(s: RtpReceiveStats, order: number[], opts: { seq0?: number; ts0?: number; t0?: number; extra?: (i: number) => number; ssrc?: number } = {}): void {
	const seq0 = opts.seq0 ?? 1000;
	const ts0 = opts.ts0 ?? 5000;
	const t0 = opts.t0 ?? 10_000;
	for (const i of order) {
		s.onPacket((seq0 + i) & 0xffff, (ts0 + 160 * i) >>> 0, t0 + 20 * i + (opts.extra?.(i) ?? 0), opts.ssrc ?? 7);
	}
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

test('a perfect stream: nothing lost, zero jitter', () => {
	const s = new RtpReceiveStats({ clockRate: 8000 });
	s.reset(10_000);
	feed(s, range(100));
	const r = s.snapshot(10_000 + 99 * 20);
	assert.equal(r.expected, 100);
	assert.equal(r.received, 100);
	assert.equal(r.lost, 0);
	assert.equal(r.lossRatio, 0);
	assert.equal(r.duplicates, 0);
	assert.equal(r.reordered, 0);
	assert.equal(r.late, 0);
	assert.equal(r.silentTail, 0);
	assert.ok(Math.abs(r.jitterMs) < 1e-9);
	assert.equal(r.maxGapMs, 20);
});

test('two packets missing', () => {
	const s = new RtpReceiveStats({ clockRate: 8000 });
	s.reset(10_000);
	feed(s, range(100).filter((i) => i !== 10 && i !== 57));
	const r = s.snapshot(10_000 + 99 * 20);
	assert.equal(r.expected, 100);
	assert.equal(r.received, 98);
	assert.equal(r.lost, 2);
	assert.equal(r.lossRatio, 0.02);
	assert.equal(r.maxGapMs, 40);
});

test('sequence wrap-around and timestamp wrap-around', () => {
	const s = new RtpReceiveStats({ clockRate: 8000 });
	s.reset(10_000);
	feed(s, range(200), { seq0: 65_450, ts0: 0xffff_ff00 });
	const r = s.snapshot(10_000 + 199 * 20);
	assert.equal(r.expected, 200);
	assert.equal(r.lost, 0);
	assert.ok(r.jitterMs < 1e-9, `jitter ${r.jitterMs}`);
	assert.equal(r.late, 0);
});

test('duplicates and reordering', () => {
	const s = new RtpReceiveStats({ clockRate: 8000 });
	s.reset(10_000);
	const order = range(100);
	order.splice(31, 0, 5); // 5 again
	[order[40], order[41]] = [order[41]!, order[40]!]; // swap 39 and 40
	feed(s, order);
	const r = s.snapshot(10_000 + 99 * 20);
	assert.equal(r.expected, 100);
	assert.equal(r.received, 100);
	assert.equal(r.duplicates, 1);
	assert.equal(r.reordered, 1);
	assert.equal(r.lost, 0);
});

test('RFC 3550 A.8 jitter converges to |D| for alternating 4 ms delays', () => {
	const s = new RtpReceiveStats({ clockRate: 8000 });
	s.reset(10_000);
	const n = 300;
	feed(s, range(n), { extra: (i) => (i % 2) * 4 });
	const r = s.snapshot(10_000 + n * 20);
	// J_k = 4·(1 − (15/16)^k) after k differences.
	const expected = 4 * (1 - (15 / 16) ** (n - 1));
	assert.ok(Math.abs(r.jitterMs - expected) < 1e-6, `jitter ${r.jitterMs} vs ${expected}`);
	assert.ok(Math.abs(r.maxJitterMs - expected) < 1e-6);
	assert.ok(r.meanJitterMs > 3 && r.meanJitterMs < 4);
});

test('late: packets held back 100 ms are late, 40 ms are not', () => {
	const s = new RtpReceiveStats({ clockRate: 8000, lateMs: 60 });
	s.reset(10_000);
	const order = range(50);
	// Packet 20 arrives after 21-24 (reordered and late); 30 arrives in order but 40 ms late.
	order.splice(20, 1);
	order.splice(24, 0, 20);
	feed(s, order, { extra: (i) => (i === 20 ? 100 : i === 30 ? 40 : 0) });
	const r = s.snapshot(10_000 + 49 * 20);
	assert.equal(r.late, 1);
	assert.equal(r.reordered, 1);
	assert.equal(r.lost, 0);
});

test('silent tail: the stream stops, expected keeps counting', () => {
	const s = new RtpReceiveStats({ clockRate: 8000, tailGraceMs: 60 });
	s.reset(10_000);
	feed(s, range(50)); // last arrival at 10 980
	const r = s.snapshot(12_000);
	assert.equal(r.silentTail, Math.floor((12_000 - 10_980 - 60) / 20));
	assert.equal(r.expected, 50 + r.silentTail);
	assert.equal(r.lost, r.silentTail);
	// Nothing at all: the whole window is missing.
	const none = new RtpReceiveStats({ clockRate: 8000, tailGraceMs: 0 });
	none.reset(0);
	assert.equal(none.snapshot(1000).expected, 50);
	assert.equal(none.snapshot(1000).lossRatio, 1);
});

test('reset() opens a new window: earlier packets and stragglers do not count', () => {
	const s = new RtpReceiveStats({ clockRate: 8000 });
	s.reset(0);
	feed(s, range(50));
	s.reset(10_000 + 49 * 20 + 1);
	feed(s, [48, ...range(100).slice(50)]); // 48 arrives late, from before the window
	const r = s.snapshot(10_000 + 99 * 20);
	assert.equal(r.expected, 50);
	assert.equal(r.received, 50);
	assert.equal(r.lost, 0);
	assert.equal(r.duplicates, 0);
});

test('SSRC change and a confirmed big jump restart the stream, counts carry', () => {
	const s = new RtpReceiveStats({ clockRate: 8000 });
	s.reset(10_000);
	feed(s, range(20).filter((i) => i !== 3));
	feed(s, range(40).slice(20), { seq0: 9, ssrc: 99 });
	let r = s.snapshot(10_000 + 39 * 20);
	assert.equal(r.restarts, 1);
	assert.equal(r.expected, 40);
	assert.equal(r.received, 39);
	// A lone wild packet is ignored; two in a row restart.
	s.onPacket(40_000, 0, 10_000 + 40 * 20, 99);
	r = s.snapshot(10_000 + 40 * 20);
	assert.equal(r.restarts, 1);
	assert.equal(r.received, 39);
	s.onPacket(50_000, 0, 10_000 + 41 * 20, 99);
	s.onPacket(50_001, 160, 10_000 + 42 * 20, 99);
	r = s.snapshot(10_000 + 42 * 20);
	// The packet that started the jump is not counted (RFC 3550 A.1); the one that confirmed it is.
	assert.equal(r.restarts, 2);
	assert.equal(r.received, 40);
	assert.equal(r.expected, 41);
});

test('a sender behind real time: gapless sequence numbers, but 25 ms apart', () => {
	const s = new RtpReceiveStats({ clockRate: 8000, lateMs: 60 });
	s.reset(10_000);
	for (let i = 0; i < 100; i++) {
		s.onPacket(i, 160 * i, 10_000 + 25 * i, 1);
	}
	const r = s.snapshot(10_000 + 2500);
	assert.equal(r.received, 100);
	assert.equal(r.behind, Math.floor(2500 / 20) - 2 - 100);
	assert.equal(r.expected, 123);
	assert.equal(r.lost, 23);
	// Transit grows 5 ms per packet: late once it passes 60 ms.
	assert.equal(r.late, 100 - 13);
});

test('a stream flowing before the window: real time counts from the window start', () => {
	const s = new RtpReceiveStats({ clockRate: 8000 });
	feed(s, range(10));
	s.reset(10_000 + 9 * 20 + 5);
	feed(s, range(110).slice(10));
	const r = s.snapshot(10_000 + 109 * 20 + 5);
	assert.equal(r.expected, 100);
	assert.equal(r.behind, 0);
	assert.equal(r.lost, 0);
});
