import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	JitterBuffer,
	createJitterFrame,
	type JitterBufferOptions,
	type JitterPopResult,
	type JitterPushResult,
} from '../../../../src/media/jitter/jitter-buffer.js';

const FRAME = 160;
const SSRC = 0x11223344;

interface Packet {
	seq: number;
	ts: number;
	at: number;
	ssrc?: number;
	marker?: boolean;
	/** Value written to the payload's first 4 bytes (default: seq). */
	tag?: number;
}

interface Tick {
	t: number;
	result: JitterPopResult;
	seq: number;
	ts: number;
	tag: number;
	marker: boolean;
	delayMs: number;
	playoutDelayMs: number;
}

interface Run {
	ticks: Tick[];
	pushes: Map<Packet, JitterPushResult>;
	/** Tags of the frames played, in order. */
	played: number[];
}

function newBuffer(opts: Partial<JitterBufferOptions> = {}): JitterBuffer {
	return new JitterBuffer({ clockRate: 8000, frameSamples: FRAME, ...opts });
}

/** Packets sent every 20 ms from `seq0`/`ts0`, arriving at send time + delay(n). */
function stream(count: number, delay: (n: number) => number, seq0 = 0, ts0 = 0, t0 = 0): Packet[] {
	const out: Packet[] = [];
	for (let n = 0; n < count; n++) {
		out.push({ seq: (seq0 + n) & 0xffff, ts: (ts0 + n * FRAME) >>> 0, at: t0 + n * 20 + delay(n), tag: n });
	}
	return out;
}

/**
 * Feeds the packets in arrival order (stable for equal times) and pops once
 * per 20 ms tick from `from` to `to`, pushing every packet that arrived by the
 * tick first.
 */
function run(jb: JitterBuffer, packets: Packet[], from: number, to: number, phase = 0): Run {
	const order = packets.map((p, i) => ({ p, i })).sort((a, b) => a.p.at - b.p.at || a.i - b.i);
	const payload = Buffer.alloc(200);
	const frame = createJitterFrame(1500);
	const ticks: Tick[] = [];
	const pushes = new Map<Packet, JitterPushResult>();
	const played: number[] = [];
	let next = 0;
	for (let t = from + phase; t <= to; t += 20) {
		while (next < order.length && order[next]!.p.at <= t) {
			const p = order[next++]!.p;
			payload.writeUInt32BE((p.tag ?? p.seq) >>> 0, 0);
			pushes.set(p, jb.push(p.seq, p.ts, p.ssrc ?? SSRC, p.marker ?? false, payload, 0, 160, p.at));
		}
		const result = jb.pop(t, frame);
		const tag = result === 'frame' ? frame.payload.readUInt32BE(0) : -1;
		if (result === 'frame') {
			assert.equal(frame.len, 160);
			played.push(tag);
		}
		ticks.push({
			t,
			result,
			seq: frame.seq,
			ts: frame.ts,
			tag,
			marker: frame.marker,
			delayMs: jb.stats.delayMs,
			playoutDelayMs: jb.stats.playoutDelayMs,
		});
	}
	return { ticks, pushes, played };
}

function range(from: number, to: number): number[] {
	const out: number[] = [];
	for (let i = from; i < to; i++) {
		out.push(i);
	}
	return out;
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

describe('JitterBuffer', () => {
	it('plays an in-order stream in order after the initial delay', () => {
		const jb = newBuffer();
		const r = run(jb, stream(50, () => 5), 0, 1200);
		assert.deepEqual(r.played, range(0, 50));
		assert.equal(r.ticks[0]!.result, 'empty');
		const first = r.ticks.findIndex((t) => t.result === 'frame');
		// Between the first and the last frame nothing is missing.
		let last = r.ticks.length - 1;
		while (r.ticks[last]!.result !== 'frame') {
			last--;
		}
		assert.ok(r.ticks.slice(first, last + 1).every((t) => t.result === 'frame'));
		// The first packet arrived at 5 ms and waits about the initial 40 ms target.
		const t0 = r.ticks[first]!.t;
		assert.ok(t0 >= 5 + 40 - 10 && t0 <= 5 + 40 + 20, `started at ${t0}`);
		const { lost, late, duplicates, reorders, resets } = jb.stats;
		assert.deepEqual({ lost, late, duplicates, reorders, resets }, { lost: 0, late: 0, duplicates: 0, reorders: 0, resets: 0 });
		// After the stream ends the buffer conceals a few ticks, then goes idle.
		assert.equal(r.ticks.at(-1)!.result, 'empty');
	});

	it('puts swapped pairs back in order', () => {
		const jb = newBuffer();
		// 1, 0, 3, 2, …: each even packet arrives just after the odd one sent after it.
		const packets = stream(100, (n) => (n % 2 === 0 ? 26 : 5));
		const r = run(jb, packets, 0, 2600);
		assert.deepEqual(r.played, range(0, 100));
		assert.equal(jb.stats.lost, 0);
		assert.equal(jb.stats.late, 0);
		assert.equal(jb.stats.reorders, 50);
		assert.ok([...r.pushes.values()].every((v) => v === 'ok'));
	});

	it('reports duplicates and plays each packet once', () => {
		const jb = newBuffer();
		const base = stream(30, () => 5);
		// Every packet twice in a row, and packet 3 once more long after it was played.
		const packets = base.flatMap((p) => [p, { ...p }]);
		const replay = { ...base[3]!, at: 500 };
		packets.push(replay);
		const r = run(jb, packets, 0, 900);
		assert.deepEqual(r.played, range(0, 30));
		assert.equal(r.pushes.get(replay), 'duplicate');
		assert.equal(jb.stats.duplicates, 31);
		assert.equal(jb.stats.late, 0);
		assert.equal(jb.stats.lost, 0);
	});

	it('drops a packet that comes after its frame was concealed', () => {
		const jb = newBuffer();
		const packets = stream(40, (n) => (n === 10 ? 300 : 5));
		const r = run(jb, packets, 0, 1200);
		assert.equal(r.pushes.get(packets[10]!), 'late');
		assert.deepEqual(r.played, range(0, 40).filter((n) => n !== 10));
		const missing = r.ticks.filter((t) => t.result === 'missing' && t.seq === 10);
		assert.equal(missing.length, 1);
		assert.equal(jb.stats.lost, 1);
		assert.equal(jb.stats.late, 1);
	});

	it('reports a lost packet as missing once, and peek() then shows the next one for FEC', () => {
		const jb = newBuffer();
		const packets = stream(30, () => 5).filter((p) => p.seq !== 5);
		const frame = createJitterFrame();
		const payload = Buffer.alloc(160);
		const results: string[] = [];
		let peeked = -1;
		let next = 0;
		for (let t = 0; t <= 800; t += 20) {
			while (next < packets.length && packets[next]!.at <= t) {
				const p = packets[next++]!;
				payload.writeUInt32BE(p.seq, 0);
				jb.push(p.seq, p.ts, SSRC, false, payload, 0, 160, p.at);
			}
			const res = jb.pop(t, frame);
			if (res === 'missing' && frame.seq === 5) {
				results.push('missing-5');
				const look = createJitterFrame();
				assert.equal(jb.peek(look), true);
				peeked = look.seq;
				assert.equal(look.payload.readUInt32BE(0), 6);
			} else if (res === 'frame') {
				results.push(String(frame.seq));
			}
		}
		assert.deepEqual(results, [...range(0, 5).map(String), 'missing-5', ...range(6, 30).map(String)]);
		assert.equal(peeked, 6);
		assert.equal(jb.stats.lost, 1);
	});

	it('follows sequence numbers across 65535 → 0 and timestamps across 2^32', () => {
		const jb = newBuffer();
		const seq0 = 65530;
		const ts0 = 2 ** 32 - 3 * FRAME;
		// Reordered pairs right at the wrap too.
		const packets = stream(20, (n) => (n === 5 ? 26 : 5), seq0, ts0);
		const r = run(jb, packets, 0, 600);
		assert.deepEqual(r.played, range(0, 20));
		const frames = r.ticks.filter((t) => t.result === 'frame');
		assert.deepEqual(
			frames.map((t) => t.seq),
			range(0, 20).map((n) => (seq0 + n) & 0xffff),
		);
		assert.deepEqual(
			frames.map((t) => t.ts),
			range(0, 20).map((n) => (ts0 + n * FRAME) >>> 0),
		);
		assert.equal(jb.stats.lost, 0);
		assert.equal(jb.stats.resets, 0);
	});

	it('resets on a new SSRC and plays the new stream from its first packet', () => {
		const jb = newBuffer();
		const a = stream(20, () => 5);
		const b = stream(20, () => 5, 40000, 123456789, 400).map((p) => ({ ...p, ssrc: 0xabcdef01, tag: 1000 + p.tag! }));
		const r = run(jb, [...a, ...b], 0, 1400);
		assert.equal(r.pushes.get(b[0]!), 'reset');
		assert.equal(jb.stats.resets, 1);
		const played = r.played;
		const firstB = played.indexOf(1000);
		assert.ok(firstB > 0);
		// Old packets before the new stream, none after; the new one complete and in order.
		assert.ok(played.slice(0, firstB).every((tag) => tag < 20));
		assert.deepEqual(played.slice(firstB), range(1000, 1020));
	});

	it('restarts on a confirmed sequence jump and ignores a single stray packet', () => {
		const jb = newBuffer();
		const a = stream(20, () => 5);
		const stray = { seq: 30000, ts: 999, at: 200, tag: 9999 };
		const b = stream(20, () => 5, 50000, 5000000, 400).map((p) => ({ ...p, tag: 1000 + p.tag! }));
		const r = run(jb, [...a, stray, ...b], 0, 1400);
		assert.equal(r.pushes.get(stray), 'late');
		assert.equal(r.pushes.get(b[0]!), 'late');
		assert.equal(r.pushes.get(b[1]!), 'reset');
		assert.ok(!r.played.includes(9999));
		assert.deepEqual(r.played.slice(r.played.indexOf(1001)), range(1001, 1020));
		assert.equal(jb.stats.resets, 1);
	});

	it('plays through a silence gap (DTX) and starts the talkspurt at its marker', () => {
		const jb = newBuffer();
		const first = stream(10, () => 5);
		// 1 s of silence: seq continues, ts jumps, marker on the first packet.
		const second = stream(10, () => 5, 10, 10 * FRAME + 8000, 1200).map((p, i) => ({
			...p,
			tag: 10 + i,
			marker: i === 0,
		}));
		const r = run(jb, [...first, ...second], 0, 1800);
		assert.deepEqual(r.played, range(0, 20));
		assert.equal(jb.stats.lost, 0);
		const spurt = r.ticks.find((t) => t.tag === 10)!;
		assert.equal(spurt.marker, true);
		// Played at its own schedule, about the same delay after arrival as the first talkspurt.
		const startA = r.ticks.find((t) => t.tag === 0)!.t - 5;
		const startB = spurt.t - (1200 + 5);
		assert.ok(Math.abs(startA - startB) <= 20, `${startA} vs ${startB}`);
		// Silence in between is idle, not concealment for ever.
		assert.ok(r.ticks.some((t) => t.t > 400 && t.t < 1200 && t.result === 'empty'));
	});

	it('grows the delay under jitter and shrinks back after it stops; the delay stays bounded', () => {
		const jb = newBuffer();
		const random = rng(7);
		// 10 s with 0-80 ms uniform network jitter, then 30 s of a steady 10 ms.
		const packets = stream(2000, (n) => (n < 500 ? random() * 80 : 10));
		const arrival = new Map(packets.map((p) => [p.tag!, p.at]));
		const r = run(jb, packets, 0, 40_500);
		const at = (ms: number): Tick => r.ticks.find((t) => t.t >= ms)!;

		const grown = at(10_000).delayMs;
		assert.ok(grown >= 60, `target ${grown} ms under 0-80 ms jitter`);
		// Once adapted, hardly anything is late.
		const lateInSecondHalf = packets.filter((p) => p.at >= 5000 && p.at < 10_000 && r.pushes.get(p) === 'late').length;
		assert.ok(lateInSecondHalf <= 5, `${lateInSecondHalf} late packets after adapting`);

		const end = at(40_000);
		assert.equal(end.delayMs, 20);
		assert.ok(end.playoutDelayMs <= 20 + 20, `playout delay ${end.playoutDelayMs} ms after jitter stopped`);
		assert.ok(jb.stats.dropped > 0);
		assert.ok(jb.stats.inserted > 0);
		// Every packet played, in order, except the few that came too late.
		for (let i = 1; i < r.played.length; i++) {
			assert.ok(r.played[i]! > r.played[i - 1]!);
		}
		assert.ok(r.played.length >= 2000 - jb.stats.late - jb.stats.dropped - 5);
		// Bounded: target ≤ max, and no packet waited longer than max in the buffer.
		for (const t of r.ticks) {
			assert.ok(t.delayMs <= 200);
			if (t.result === 'frame') {
				assert.ok(t.t - arrival.get(t.tag)! <= 200, `tag ${t.tag} waited ${t.t - arrival.get(t.tag)!} ms`);
			}
		}
	});

	it('never exceeds maxDelayMs under extreme jitter', () => {
		const jb = newBuffer({ maxDelayMs: 120 });
		const random = rng(42);
		const packets = stream(1500, () => random() * 700);
		const arrival = new Map(packets.map((p) => [p.tag!, p.at]));
		const r = run(jb, packets, 0, 31_000, 3);
		assert.ok(r.ticks.every((t) => t.delayMs <= 120));
		assert.ok(r.ticks.some((t) => t.delayMs === 120));
		for (const t of r.ticks) {
			if (t.result === 'frame') {
				assert.ok(t.t - arrival.get(t.tag)! <= 120 + 20);
			}
		}
		assert.ok(jb.stats.late > 0);
		assert.ok(jb.stats.buffered <= jb.capacity);
	});

	it('keeps a bounded queue when packets flood in faster than they are played', () => {
		const jb = newBuffer({ capacity: 16 });
		const payload = Buffer.alloc(160);
		const results: JitterPushResult[] = [];
		for (let n = 0; n < 40; n++) {
			results.push(jb.push(n, n * FRAME, SSRC, false, payload, 0, 160, 0));
		}
		assert.deepEqual(results.slice(0, 16), Array(16).fill('ok'));
		assert.ok(results.slice(16).every((r) => r === 'overflow'));
		assert.equal(jb.stats.buffered, 16);
		assert.equal(jb.stats.overflows, 24);
		// The newest 16 remain, in order.
		const frame = createJitterFrame();
		const seqs: number[] = [];
		for (let t = 0; t < 2000; t += 20) {
			if (jb.pop(t, frame) === 'frame') {
				seqs.push(frame.seq);
			}
		}
		// Played in order from what was left; behind schedule, it catches up by dropping.
		assert.ok(seqs[0]! >= 24);
		assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y));
		assert.equal(seqs.at(-1), 39);
	});

	it('resets when the timestamp goes back between consecutive packets', () => {
		const jb = newBuffer();
		const a = stream(10, () => 5, 100, 500_000);
		const b = stream(10, () => 5, 110, 1000, 200).map((p) => ({ ...p, tag: 100 + p.tag! }));
		const r = run(jb, [...a, ...b], 0, 700);
		assert.equal(r.pushes.get(b[0]!), 'reset');
		assert.deepEqual(r.played.slice(r.played.indexOf(100)), range(100, 110));
	});

	it('works at the Opus clock (48 kHz, 960 per frame)', () => {
		const jb = new JitterBuffer({ clockRate: 48000, frameSamples: 960 });
		const packets: Packet[] = range(0, 50).map((n) => ({ seq: n, ts: (4_000_000_000 + n * 960) >>> 0, at: n * 20 + (n % 3) * 7 }));
		const r = run(jb, packets, 0, 1300);
		assert.deepEqual(r.played, range(0, 50));
		assert.equal(jb.stats.lost, 0);
		assert.ok(Math.abs(jb.stats.jitterMs - 7) < 7);
	});

	it('refuses a payload longer than maxPayload', () => {
		const jb = newBuffer({ maxPayload: 100 });
		assert.equal(jb.push(1, 0, SSRC, false, Buffer.alloc(200), 0, 200, 0), 'overflow');
		assert.equal(jb.stats.buffered, 0);
	});

	it('validates its options', () => {
		assert.throws(() => newBuffer({ clockRate: 0 }), TypeError);
		assert.throws(() => newBuffer({ frameSamples: 1.5 }), TypeError);
		assert.throws(() => newBuffer({ minDelayMs: 100, maxDelayMs: 50 }), RangeError);
		assert.throws(() => newBuffer({ capacity: 8, maxDelayMs: 400 }), RangeError);
		assert.equal(newBuffer({ capacity: 40 }).capacity, 64);
	});
});
