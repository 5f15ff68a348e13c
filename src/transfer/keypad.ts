import { TypedEmitter } from '../common/events.js';
import { realClock, type Clock, type TimerHandle } from '../common/time.js';

/**
 * The in-call feature keys (all configurable; the defaults are what the seed
 * documents: `#` + number to transfer, `*` to come back, `#` again for a
 * three-way call, plus the star codes of the conference issue).
 */
export interface KeypadKeys {
	/** Starts dialing a transfer target while talking to the client. */
	transfer: string;
	/** Ends the target early (otherwise the digit timeout does). */
	terminator: string;
	/** Back to the client, dropping the attempt (while B rings, while consulting B, in the three-way call). */
	return: string;
	/** After B answered: take the client off hold, all three talk. */
	threeWay: string;
	/** Followed by a room number: the other party goes into that room. */
	conference: string;
	/** Ad hoc conference: the other party goes into the user's own room, then the user joins. */
	adhoc: string;
}

export const DEFAULT_KEYS: Readonly<KeypadKeys> = Object.freeze({
	transfer: '#',
	terminator: '#',
	return: '*',
	threeWay: '#',
	conference: '**',
	adhoc: '*3',
});

/**
 * What the call is doing, as the owner tells the engine; it picks the keys
 * that mean something:
 *
 *   talking     transfer (+ target), conference (+ room), adhoc; other digits pass through
 *   ringing     return; every other digit is swallowed (nobody to hear it)
 *   consulting  return, threeWay; other digits pass to B (a voice menu at B's end)
 *   threeway    return; other digits pass through
 *   off         everything passes through (a party without the features)
 */
export type KeypadMode = 'talking' | 'ringing' | 'consulting' | 'threeway' | 'off';

export type KeypadAction = 'transfer' | 'conference' | 'adhoc' | 'return' | 'threeWay';

export type KeypadEvents = {
	/** `#` was pressed: the target's digits follow (the owner may start the hold melody). */
	collecting: [kind: 'transfer' | 'conference'];
	/** A transfer target, complete (terminator, digit timeout or maxDigits). */
	transfer: [target: string];
	/** A room number after the conference key. */
	conference: [room: string];
	adhoc: [];
	return: [];
	threeWay: [];
	/** Collection abandoned: return key while dialing, or nothing dialed. */
	cancel: [];
	/** Not a feature: give it to the other party. */
	forward: [digit: string];
};

export interface KeypadOptions {
	keys?: Partial<KeypadKeys>;
	/** Wait this long for the next digit of a target or of an ambiguous key sequence. Default 3000. */
	digitTimeoutMs?: number;
	/** A target this long is complete without a terminator. Default 32. */
	maxDigits?: number;
	mode?: KeypadMode;
	clock?: Clock;
}

/** Sequences each mode listens for; order only matters for equal keys, which validation forbids. */
const MODE_ACTIONS: Readonly<Record<KeypadMode, readonly KeypadAction[]>> = {
	talking: ['transfer', 'conference', 'adhoc'],
	ringing: ['return'],
	consulting: ['return', 'threeWay'],
	threeway: ['return'],
	off: [],
};

/** Whether digits that are no feature go to the other party in this mode. */
const FORWARDS: Readonly<Record<KeypadMode, boolean>> = {
	talking: true,
	ringing: false,
	consulting: true,
	threeway: true,
	off: true,
};

const DIGITS = /^[0-9*#A-D]+$/;

/** Throws a TypeError naming the key when the set is unusable in some mode. */
export function validateKeys(keys: KeypadKeys): void {
	for (const [name, seq] of Object.entries(keys)) {
		if (typeof seq !== 'string' || !DIGITS.test(seq) || seq.length > 4) {
			throw new TypeError(`keys.${name} must be 1-4 DTMF digits (0-9 * # A-D)`);
		}
	}
	if (keys.terminator.length !== 1) {
		throw new TypeError('keys.terminator must be one digit');
	}
	for (const mode of Object.keys(MODE_ACTIONS) as KeypadMode[]) {
		const actions = MODE_ACTIONS[mode];
		for (let i = 0; i < actions.length; i++) {
			for (let j = i + 1; j < actions.length; j++) {
				const a = actions[i]!;
				const b = actions[j]!;
				if (keys[a] === keys[b]) {
					throw new TypeError(`keys.${a} and keys.${b} are both "${keys[a]}" (both mean something while ${mode})`);
				}
			}
		}
	}
}

/**
 * The DTMF state machine of one call party (the employee pressing keys).
 * Digits come in with push(); features come out as events, and everything
 * that is not a feature comes out as 'forward' for the other party, so a
 * feature digit never reaches the client. Key sequences are matched by
 * prefix: a digit that could still become a longer sequence (`*` before
 * `**` or `*3`) waits up to the digit timeout; if nothing longer comes, the
 * exact match fires, or the digits are forwarded as they were.
 *
 *   talking ─ transfer key ─► dialing ─ terminator / timeout / maxDigits ─► 'transfer'(target)
 *           ─ conference key ─► dialing ─ … ─► 'conference'(room)
 *   dialing ─ return key ─► 'cancel'; empty target ─► 'cancel'
 *
 * The engine never changes mode by itself: the owner sets it as the call
 * moves (ringing B, consulting, three-way), which also drops half-typed keys.
 */
export class KeypadEngine extends TypedEmitter<KeypadEvents> {
	readonly keys: Readonly<KeypadKeys>;
	readonly #clock: Clock;
	readonly #timeoutMs: number;
	readonly #maxDigits: number;
	#mode: KeypadMode;
	/** Keys typed that are a strict prefix of some sequence of the mode. */
	#pending = '';
	/** While dialing a target: what for, and the digits so far. */
	#collect: 'transfer' | 'conference' | undefined;
	#target = '';
	#timer: TimerHandle | undefined;
	#closed = false;

	constructor(opts: KeypadOptions = {}) {
		super();
		const keys = { ...DEFAULT_KEYS, ...opts.keys };
		validateKeys(keys);
		this.keys = Object.freeze(keys);
		this.#clock = opts.clock ?? realClock;
		this.#timeoutMs = opts.digitTimeoutMs ?? 3000;
		this.#maxDigits = opts.maxDigits ?? 32;
		if (!(this.#timeoutMs > 0) || !Number.isInteger(this.#maxDigits) || this.#maxDigits < 1) {
			throw new TypeError('digitTimeoutMs must be > 0 and maxDigits a positive integer');
		}
		this.#mode = opts.mode ?? 'talking';
	}

	get mode(): KeypadMode {
		return this.#mode;
	}

	/** Whether a target is being dialed. */
	get dialing(): boolean {
		return this.#collect !== undefined;
	}

	/** Whether a digit timer is running (tests check nothing is left behind). */
	get timerPending(): boolean {
		return this.#timer !== undefined;
	}

	/** Sets the mode; half-typed sequences and targets are dropped (not forwarded). */
	setMode(mode: KeypadMode): void {
		if (!(mode in MODE_ACTIONS)) {
			throw new TypeError(`unknown keypad mode ${String(mode)}`);
		}
		this.#reset();
		this.#mode = mode;
	}

	/** One key press ('0'-'9', '*', '#', 'A'-'D'); anything else is ignored. */
	push(digit: string): void {
		if (this.#closed || digit.length !== 1 || !DIGITS.test(digit)) {
			return;
		}
		if (this.#collect !== undefined) {
			this.#dial(digit);
			return;
		}
		const actions = MODE_ACTIONS[this.#mode];
		const buf = this.#pending + digit;
		let exact: KeypadAction | undefined;
		let longer = false;
		for (const a of actions) {
			const seq = this.keys[a];
			if (seq === buf) {
				exact = a;
			} else if (seq.startsWith(buf)) {
				longer = true;
			}
		}
		if (longer) {
			this.#pending = buf;
			this.#arm();
			return;
		}
		this.#pending = '';
		this.#disarm();
		if (exact !== undefined) {
			this.#fire(exact);
			return;
		}
		// No sequence continues: the oldest key was not a feature; the rest may start one.
		if (buf.length > 1) {
			this.#pass(buf[0]!);
			for (const d of buf.slice(1)) {
				this.push(d);
			}
			return;
		}
		this.#pass(digit);
	}

	/** Stops the timer and ignores further digits. */
	close(): void {
		this.#closed = true;
		this.#reset();
	}

	#dial(digit: string): void {
		if (digit === this.keys.terminator) {
			this.#complete();
			return;
		}
		if (digit === this.keys.return) {
			this.#reset();
			this.safeEmit('cancel');
			return;
		}
		this.#target += digit;
		if (this.#target.length >= this.#maxDigits) {
			this.#complete();
			return;
		}
		this.#arm();
	}

	#complete(): void {
		const kind = this.#collect;
		const target = this.#target;
		this.#reset();
		if (target === '') {
			this.safeEmit('cancel');
		} else if (kind === 'conference') {
			this.safeEmit('conference', target);
		} else {
			this.safeEmit('transfer', target);
		}
	}

	#fire(action: KeypadAction): void {
		switch (action) {
			case 'transfer':
			case 'conference': {
				this.#collect = action;
				this.#target = '';
				this.#arm();
				this.safeEmit('collecting', action);
				return;
			}
			case 'adhoc': {
				this.safeEmit('adhoc');
				return;
			}
			case 'return': {
				this.safeEmit('return');
				return;
			}
			case 'threeWay': {
				this.safeEmit('threeWay');
				return;
			}
		}
	}

	#pass(digit: string): void {
		if (FORWARDS[this.#mode]) {
			this.safeEmit('forward', digit);
		}
	}

	readonly #onTimeout = (): void => {
		this.#timer = undefined;
		if (this.#collect !== undefined) {
			this.#complete();
			return;
		}
		const buf = this.#pending;
		this.#pending = '';
		if (buf === '') {
			return;
		}
		const exact = MODE_ACTIONS[this.#mode].find((a) => this.keys[a] === buf);
		if (exact !== undefined) {
			this.#fire(exact);
			return;
		}
		for (const d of buf) {
			this.#pass(d);
		}
	};

	#arm(): void {
		this.#timer?.cancel();
		this.#timer = this.#clock.setTimeout(this.#onTimeout, this.#timeoutMs);
	}

	#disarm(): void {
		this.#timer?.cancel();
		this.#timer = undefined;
	}

	#reset(): void {
		this.#disarm();
		this.#pending = '';
		this.#collect = undefined;
		this.#target = '';
	}
}
