import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MediaClock, type ClockedLeg } from '../../../src/media/clock.js';
import type { Clock, TimerHandle } from '../../../src/common/time.js';

/**
 * A fake clock whose timers fire `lateMs` after their due time, and whose
 * time can jump without firing anything (a blocked event loop).
 */
class LateClock implements Clock {
	#now = 0;
	#timers: Array<{ at: number; fn: () => void; dead: boolean }> = [];
	constructor(readonly lateMs = 0) {}

	now(): number {
		return this.#now;
	}

	setTimeout(fn: () => void, ms: number): TimerHandle {
		const t = { at: this.#now + ms + this.lateMs, fn, dead: false };
		this.#timers.push(t);
		return { cancel: () => void (t.dead = true) };
	}

	get pending(): number {
		return this.#timers.filter((t) => !t.dead).length;
	}

	/** Moves time on without running timers. */
	stall(ms: number): void {
		this.#now += ms;
	}

	advance(ms: number): void {
		const end = this.#now + ms;
		for (;;) {
			this.#timers = this.#timers.filter((t) => !t.dead);
			this.#timers.sort((a, b) => a.at - b.at);
			const t = this.#timers[0];
			if (!t || t.at > end) {
				break;
			}
			this.#timers.shift();
			this.#now = Math.max(this.#now, t.at);
			t.fn();
		}
		this.#now = end;
	}
}

class FakeLeg implements ClockedLeg {
	closed = false;
	frames = 0;
	at: number[] = [];
	constructor(readonly clock?: Clock) {}
	sendFrame(): void {
		this.frames++;
		if (this.clock) {
			this.at.push(this.clock.now());
		}
	}
}

describe('MediaClock', () => {
	it('ticks every 20 ms for every leg and stops its timer when empty', () => {
		const clock = new LateClock();
		const mc = new MediaClock({ clock });
		const a = new FakeLeg(clock);
		const b = new FakeLeg();
		assert.equal(mc.running, false);
		mc.add(a);
		mc.add(b);
		mc.add(a);
		assert.equal(mc.size, 2);
		clock.advance(1000);
		assert.equal(a.frames, 50);
		assert.equal(b.frames, 50);
		assert.deepEqual(a.at.slice(0, 3), [20, 40, 60]);
		mc.remove(a);
		clock.advance(100);
		assert.equal(a.frames, 50);
		assert.equal(b.frames, 55);
		mc.remove(b);
		assert.equal(mc.running, false);
		assert.equal(clock.pending, 0);
		clock.advance(100);
		assert.equal(b.frames, 55);
	});

	it('does not drift when every timer fires late', () => {
		const clock = new LateClock(7);
		const mc = new MediaClock({ clock });
		const leg = new FakeLeg(clock);
		mc.add(leg);
		clock.advance(2000);
		// A relative 20 ms re-arm would give 2000 / 27 ≈ 74 frames.
		assert.ok(leg.frames >= 99 && leg.frames <= 100, `frames ${leg.frames}`);
		assert.equal(mc.resyncs, 0);
		mc.close();
		assert.equal(clock.pending, 0);
	});

	it('catches up a short delay but restarts after a long stall', () => {
		const clock = new LateClock();
		const mc = new MediaClock({ clock, maxLateFrames: 5 });
		const leg = new FakeLeg(clock);
		mc.add(leg);
		clock.advance(100);
		assert.equal(leg.frames, 5);
		// 50 ms late: the missed frames go out at once, schedule unchanged.
		clock.stall(50);
		clock.advance(0);
		assert.equal(leg.frames, 7);
		assert.equal(mc.resyncs, 0);
		clock.advance(50);
		assert.equal(leg.frames, 10);
		// A 300 ms stall: one late frame, then a fresh schedule, no burst of 15.
		clock.stall(300);
		clock.advance(0);
		assert.equal(leg.frames, 11);
		assert.equal(mc.resyncs, 1);
		clock.advance(100);
		assert.equal(leg.frames, 16);
		mc.close();
	});

	it('drops closed legs by itself and survives a throwing leg', () => {
		const clock = new LateClock();
		const mc = new MediaClock({ clock });
		const bad: ClockedLeg = {
			closed: false,
			sendFrame() {
				throw new Error('boom');
			},
		};
		const good = new FakeLeg();
		mc.add(bad);
		mc.add(good);
		clock.advance(60);
		assert.equal(good.frames, 3);
		good.closed = true;
		(bad as { closed: boolean }).closed = true;
		clock.advance(20);
		assert.equal(mc.size, 0);
		assert.equal(mc.running, false);
		assert.equal(clock.pending, 0);
		// A closed leg is not added; a closed clock takes nothing.
		mc.add(good);
		assert.equal(mc.size, 0);
		mc.close();
		mc.add(new FakeLeg());
		assert.equal(mc.running, false);
	});

	it('runs on the real clock', async () => {
		const mc = new MediaClock();
		const leg = new FakeLeg();
		mc.add(leg);
		await sleep(400);
		mc.remove(leg);
		assert.equal(mc.running, false);
		// Loose: the machine is shared, only the order of magnitude matters.
		assert.ok(leg.frames >= 5 && leg.frames <= 25, `frames ${leg.frames}`);
	});
});
