/**
 * Transaction timer values (RFC 3261 §17, Table 4) and a small named-timer
 * set so a transaction can cancel everything it started in one call.
 */
import type { Clock, TimerHandle } from '../../common/time.js';

export interface TimerConfig {
	/** RTT estimate; default 500 ms. */
	t1: number;
	/** Cap on non-INVITE request and INVITE response retransmit intervals; default 4 s. */
	t2: number;
	/** Longest time a message stays in the network; default 5 s. */
	t4: number;
}

export const DEFAULT_TIMERS: Readonly<TimerConfig> = { t1: 500, t2: 4000, t4: 5000 };

export class TimerSet {
	readonly #clock: Clock;
	readonly #handles = new Map<string, TimerHandle>();

	constructor(clock: Clock) {
		this.#clock = clock;
	}

	/** (Re)starts a timer by name; a running one of that name is cancelled. */
	start(name: string, ms: number, fn: () => void): void {
		this.cancel(name);
		const h = this.#clock.setTimeout(() => {
			this.#handles.delete(name);
			fn();
		}, ms);
		this.#handles.set(name, h);
	}

	cancel(name: string): void {
		const h = this.#handles.get(name);
		if (h) {
			h.cancel();
			this.#handles.delete(name);
		}
	}

	cancelAll(): void {
		for (const h of this.#handles.values()) {
			h.cancel();
		}
		this.#handles.clear();
	}

	get size(): number {
		return this.#handles.size;
	}
}
