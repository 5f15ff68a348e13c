/**
 * A clock that timers can be driven by. Production uses the real one; tests
 * pass a ManualClock so transaction timers (T1, 64*T1 …) run without waiting.
 */
export interface TimerHandle {
	cancel(): void;
}

export interface Clock {
	now(): number;
	setTimeout(fn: () => void, ms: number): TimerHandle;
}

export const realClock: Clock = {
	now: () => performance.now(),
	setTimeout(fn, ms) {
		const t = setTimeout(fn, ms);
		return { cancel: () => clearTimeout(t) };
	},
};

/** Deterministic clock for tests: time moves only when advance() is called. */
export class ManualClock implements Clock {
	#now = 0;
	#seq = 0;
	#timers = new Map<number, { at: number; fn: () => void }>();

	now(): number {
		return this.#now;
	}

	setTimeout(fn: () => void, ms: number): TimerHandle {
		const id = ++this.#seq;
		this.#timers.set(id, { at: this.#now + ms, fn });
		return { cancel: () => this.#timers.delete(id) };
	}

	/** Moves time forward, firing due timers in deadline order. */
	advance(ms: number): void {
		const end = this.#now + ms;
		for (;;) {
			let nextId = -1;
			let nextAt = Infinity;
			for (const [id, t] of this.#timers) {
				if (t.at <= end && t.at < nextAt) {
					nextAt = t.at;
					nextId = id;
				}
			}
			if (nextId < 0) {
				break;
			}
			const t = this.#timers.get(nextId)!;
			this.#timers.delete(nextId);
			this.#now = t.at;
			t.fn();
		}
		this.#now = end;
	}

	get pending(): number {
		return this.#timers.size;
	}
}
