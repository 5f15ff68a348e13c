import { logger } from '../common/logger.js';
import { realClock, type Clock, type TimerHandle } from '../common/time.js';

/** What the clock drives: a MediaLeg, or anything else that sends one frame per tick. */
export interface ClockedLeg {
	sendFrame(): void;
	readonly closed: boolean;
}

export interface MediaClockOptions {
	/** Frame period; default 20 ms. */
	frameMs?: number;
	/** Ticks this many frames late or more are not caught up: the schedule restarts. */
	maxLateFrames?: number;
	clock?: Clock;
}

/**
 * The one send scheduler of the main thread: every frame period it calls
 * sendFrame() on every registered leg, so all legs share one timer instead of
 * one each.
 *
 * Drift-free: tick k is due at start + k × frameMs, and each timeout is set
 * for the next absolute deadline, so timer lateness does not accumulate. A
 * tick that is a little late is followed at once by the next (the far end's
 * jitter buffer absorbs the burst); after a stall of maxLateFrames or more
 * (GC pause, suspended VM) the schedule restarts from now rather than bursting
 * out a backlog of stale frames.
 *
 * With no legs the timer stops, so an idle process has no active timers.
 */
export class MediaClock {
	readonly frameMs: number;
	readonly #maxLate: number;
	readonly #clock: Clock;
	readonly #legs = new Set<ClockedLeg>();
	#timer: TimerHandle | undefined;
	#start = 0;
	#k = 0;
	#closed = false;
	#ticks = 0;
	#resyncs = 0;

	constructor(opts: MediaClockOptions = {}) {
		this.frameMs = opts.frameMs ?? 20;
		this.#maxLate = opts.maxLateFrames ?? 5;
		this.#clock = opts.clock ?? realClock;
		if (!(this.frameMs > 0) || !(this.#maxLate >= 1)) {
			throw new TypeError('frameMs must be > 0 and maxLateFrames ≥ 1');
		}
	}

	get size(): number {
		return this.#legs.size;
	}

	/** Whether the timer is armed (false whenever no legs are registered). */
	get running(): boolean {
		return this.#timer !== undefined;
	}

	get ticks(): number {
		return this.#ticks;
	}

	/** Times the schedule restarted after a stall. */
	get resyncs(): number {
		return this.#resyncs;
	}

	add(leg: ClockedLeg): void {
		if (this.#closed || leg.closed) {
			return;
		}
		this.#legs.add(leg);
		if (this.#timer === undefined) {
			this.#start = this.#clock.now();
			this.#k = 0;
			this.#schedule();
		}
	}

	remove(leg: ClockedLeg): void {
		this.#legs.delete(leg);
		if (this.#legs.size === 0) {
			this.#stop();
		}
	}

	close(): void {
		this.#closed = true;
		this.#legs.clear();
		this.#stop();
	}

	#stop(): void {
		this.#timer?.cancel();
		this.#timer = undefined;
	}

	#schedule(): void {
		this.#k++;
		const deadline = this.#start + this.#k * this.frameMs;
		this.#timer = this.#clock.setTimeout(this.#tick, Math.max(0, deadline - this.#clock.now()));
	}

	readonly #tick = (): void => {
		this.#timer = undefined;
		this.#ticks++;
		for (const leg of this.#legs) {
			// Closed legs drop out here, so a forgotten remove() cannot keep the timer alive.
			if (leg.closed) {
				this.#legs.delete(leg);
				continue;
			}
			try {
				leg.sendFrame();
			} catch (err) {
				logger.error({ err }, 'sendFrame threw');
			}
		}
		if (this.#closed || this.#legs.size === 0) {
			return;
		}
		const now = this.#clock.now();
		if (now - (this.#start + this.#k * this.frameMs) >= this.#maxLate * this.frameMs) {
			this.#resyncs++;
			this.#start = now;
			this.#k = 0;
		}
		this.#schedule();
	};
}
