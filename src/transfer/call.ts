import { randomUUID } from 'node:crypto';
import { TypedEmitter } from '../common/events.js';
import type { Logger } from '../common/logger.js';
import type { Clock, TimerHandle } from '../common/time.js';
import { Prompt, type PlaybackHandle } from '../media/index.js';
import type { FailurePolicyConfig, TransferConfig, VoiceMessageConfig } from './config.js';
import { KeypadEngine, type KeypadMode } from './keypad.js';
import { DEFAULT_MELODY, type SystemPrompt } from './messages.js';
import type { BridgeRoom, CallParty, DialAttempt, DialFailure, Dialer, RoomProvider } from './types.js';

/** Where voice messages come from (VoiceMessages fits). */
export interface MessageSource {
	get(msg: VoiceMessageConfig, system: SystemPrompt, rate: number): Promise<Prompt | undefined>;
	file(path: string, rate: number): Promise<Prompt>;
}

/** Voicemail as a failed transfer uses it (VoicemailService fits). */
export interface VoicemailSink {
	leaveMessage(
		leg: CallParty['leg'],
		opts: { mailbox: string; caller: string; called: string; reason: string; greeting?: Prompt | undefined },
	): Promise<unknown>;
}

export interface FeatureDeps {
	config: TransferConfig;
	dialer: Dialer;
	rooms: RoomProvider;
	messages: MessageSource;
	voicemail?: VoicemailSink | undefined;
	clock: Clock;
	log: Logger;
}

export interface FeatureCallInit {
	/** The room both parties are in (a two-party call is a room of two). */
	room: BridgeRoom;
	/** Who placed the call, and who answered it. */
	caller: CallParty;
	callee: CallParty;
	/** The number the caller dialled: its original route, and caller ID mode 'called'. */
	called: string;
	/** Set by the API for originated calls (always 'outgoing' for the policy). */
	origin?: 'api';
}

export type TransferPhase = 'talking' | 'ringing' | 'consulting' | 'threeway' | 'failing' | 'ended';

export type FeatureCallEvents = {
	/** A transfer attempt to `target` started. */
	transferstarted: [target: string];
	/** The client is now connected to `party` (attended, blind, or returned to A). */
	transferred: [party: CallParty];
	/** The transfer failed; what happens next follows the policy. */
	transferfailed: [cause: DialFailure];
	/** A pressed the return key: back with the client. */
	returned: [];
	threeway: [];
	/** The call is over (or its parties handed to a conference room). */
	ended: [reason: string];
};

/** An outgoing attempt in progress: the transfer to B, or A rung again, or the original route. */
interface Attempt {
	kind: 'transfer' | 'return' | 'reroute';
	/** A, while still on the line (undefined once A hung up: blind transfer). */
	initiator: CallParty | undefined;
	/** A's number, to ring A again when the policy says so. */
	aNumber: string;
	/** The client, while still on the line. */
	client: CallParty | undefined;
	target: string;
	dial: DialAttempt | undefined;
	/** B once answered (consulting). */
	b: CallParty | undefined;
	timer: TimerHandle | undefined;
	noAnswer: boolean;
	ringback: PlaybackHandle | undefined;
	policy: FailurePolicyConfig;
}

/** Europe's ringback: 425 Hz, 1 s on, 4 s off (what A hears while B rings). */
function ringback(rate: number): Prompt {
	const on = Prompt.tone(425, 1000, rate, 6000).samples;
	const s = new Int16Array(on.length * 5);
	s.set(on);
	return new Prompt(s, rate, 'ringback');
}

/**
 * The in-call features of one call through the server: the keypad of each
 * party that has one, and the transfer state machine.
 *
 *   talking ─ A: # target ─► ringing ─ B answers ─► consulting ─ A hangs up ─► C+B (attended)
 *                              │  ─ A hangs up ─► (blind) B answers ─► C+B     │─ A: # ─► threeway
 *                              │  ─ A: * ─► talking (B cancelled)             │─ A: * / B hangs up ─► talking
 *                              └─ busy / no answer / unreachable ─► A present: back to A
 *                                                                      A gone: the direction's policy
 *
 * The client (C) waits on hold, out of the room, hearing the transfer
 * melody. Every change runs through one queue per call, so key presses,
 * answers and hang-ups that race each other are applied one at a time.
 */
export class FeatureCall extends TypedEmitter<FeatureCallEvents> {
	readonly id = randomUUID();
	readonly room: BridgeRoom;
	readonly called: string;
	readonly direction: 'incoming' | 'outgoing';
	readonly startedAt = new Date();
	readonly #deps: FeatureDeps;
	readonly #log: Logger;
	/** Parties of the call (in the room or on hold), not a B still being consulted. */
	readonly #members = new Set<CallParty>();
	readonly #keypads = new Map<CallParty, KeypadEngine>();
	readonly #unsubscribe = new Map<CallParty, () => void>();
	readonly #caller: CallParty;
	#held: CallParty | undefined;
	#melody: PlaybackHandle | undefined;
	#attempt: Attempt | undefined;
	/** Who made the three-way call (their return key drops the third party). */
	#threeway: { initiator: CallParty; third: CallParty } | undefined;
	#queue: Promise<void> = Promise.resolve();
	#ended = false;

	constructor(init: FeatureCallInit, deps: FeatureDeps) {
		super();
		this.room = init.room;
		this.called = init.called;
		this.#caller = init.caller;
		this.#deps = deps;
		// For the employee the call is incoming when the other side (a client) called in.
		this.direction = init.origin === 'api' || init.caller.isUser ? 'outgoing' : 'incoming';
		this.#log = deps.log.child({ call: this.id });
		this.#addMember(init.caller);
		this.#addMember(init.callee);
		this.#syncKeypads();
	}

	get phase(): TransferPhase {
		if (this.#ended) {
			return 'ended';
		}
		if (this.#attempt) {
			return this.#attempt.b ? 'consulting' : this.#attempt.dial ? 'ringing' : 'failing';
		}
		return this.#threeway ? 'threeway' : 'talking';
	}

	get ended(): boolean {
		return this.#ended;
	}

	/** Parties of the call, and B while consulting. */
	get parties(): CallParty[] {
		const list = [...this.#members];
		if (this.#attempt?.b) {
			list.push(this.#attempt.b);
		}
		return list;
	}

	/** The party on hold (hearing the melody), if any. */
	get held(): CallParty | undefined {
		return this.#held;
	}

	/** Timers and keypad timers still armed (tests: nothing left behind). */
	get pendingTimers(): number {
		let n = this.#attempt?.timer ? 1 : 0;
		for (const k of this.#keypads.values()) {
			n += k.timerPending ? 1 : 0;
		}
		return n;
	}

	/** The keypad of a party (tests, the REFER path). */
	keypadOf(party: CallParty): KeypadEngine | undefined {
		return this.#keypads.get(party);
	}

	/** The way the call API and REFER start a transfer: as if `party` had dialed `target`. */
	transfer(party: CallParty, target: string): Promise<void> {
		return this.#run(() => this.#startTransfer(party, target));
	}

	/** Hangs up every party. */
	hangup(reason = 'hangup'): Promise<void> {
		return this.#run(() => this.#end(reason, true));
	}

	/** Settles when the queued changes have run (tests). */
	settled(): Promise<void> {
		return this.#queue;
	}

	// -------------------------------------------------------------------
	// Members and keypads

	#addMember(p: CallParty): void {
		if (this.#members.has(p)) {
			return;
		}
		this.#members.add(p);
		this.#watch(p);
	}

	#watch(p: CallParty): void {
		if (this.#unsubscribe.has(p)) {
			return;
		}
		const onDtmf = (digit: string): void => this.#onDigit(p, digit);
		const onEnded = (reason: string): void => {
			void this.#run(() => this.#partyEnded(p, reason));
		};
		p.on('dtmf', onDtmf);
		p.on('ended', onEnded);
		this.#unsubscribe.set(p, () => {
			p.off('dtmf', onDtmf);
			p.off('ended', onEnded);
		});
	}

	/** Stops listening to a party and drops its keypad (it left the call or was handed on). */
	#forget(p: CallParty): void {
		this.#members.delete(p);
		this.#unsubscribe.get(p)?.();
		this.#unsubscribe.delete(p);
		this.#keypads.get(p)?.close();
		this.#keypads.delete(p);
	}

	#eligible(p: CallParty): boolean {
		const cfg = this.#deps.config;
		return cfg.enabled && (cfg.keypadFor === 'all' || p.isUser);
	}

	#keypad(p: CallParty): KeypadEngine | undefined {
		if (!this.#eligible(p)) {
			return undefined;
		}
		let k = this.#keypads.get(p);
		if (!k) {
			const cfg = this.#deps.config;
			k = new KeypadEngine({ keys: cfg.keys, digitTimeoutMs: cfg.digitTimeoutMs, maxDigits: cfg.maxDigits, clock: this.#deps.clock, mode: 'off' });
			this.#keypads.set(p, k);
			k.on('collecting', () => void this.#run(() => this.#collecting(p)));
			k.on('cancel', () => void this.#run(() => this.#cancelDial(p)));
			k.on('transfer', (target) => void this.#run(() => this.#startTransfer(p, target)));
			k.on('return', () => void this.#run(() => this.#return(p)));
			k.on('threeWay', () => void this.#run(() => this.#makeThreeway(p)));
			k.on('conference', (number) => void this.#run(() => this.#toConference(p, number)));
			k.on('adhoc', () => void this.#run(() => this.#adhoc(p)));
			k.on('forward', (digit) => this.#forward(p, digit));
		}
		return k;
	}

	/** Sets each keypad's mode from the call's state. */
	#syncKeypads(): void {
		const att = this.#attempt;
		for (const p of [...this.#members, ...(att?.b ? [att.b] : [])]) {
			let mode: KeypadMode;
			if (att && p === att.initiator) {
				mode = att.b ? 'consulting' : att.dial ? 'ringing' : 'talking';
			} else if (att || this.#held) {
				// The client on hold, or B being consulted: no features of their own meanwhile.
				mode = 'off';
			} else if (this.#threeway) {
				mode = p === this.#threeway.initiator ? 'threeway' : 'off';
			} else {
				mode = this.#members.size === 2 ? 'talking' : 'off';
			}
			const k = this.#keypad(p);
			if (k && k.mode !== mode && !(mode === 'talking' && k.dialing)) {
				k.setMode(mode);
			}
		}
	}

	#onDigit(p: CallParty, digit: string): void {
		const k = this.#keypad(p);
		if (k) {
			k.push(digit);
		} else {
			this.#forward(p, digit);
		}
	}

	/** A digit that is no feature goes to everyone else in the room with the presser. */
	#forward(from: CallParty, digit: string): void {
		for (const p of this.parties) {
			if (p !== from && p.room === from.room && p.room !== undefined) {
				p.sendDtmf?.(digit);
			}
		}
	}

	#other(p: CallParty): CallParty | undefined {
		if (this.#members.size !== 2) {
			return undefined;
		}
		for (const m of this.#members) {
			if (m !== p) {
				return m;
			}
		}
		return undefined;
	}

	// -------------------------------------------------------------------
	// Hold

	async #hold(c: CallParty): Promise<void> {
		if (this.#held === c || c.ended) {
			return;
		}
		this.#held = c;
		await c.leave();
		const cfg = this.#deps.config;
		try {
			const melody = await this.#deps.messages.file(cfg.melody || DEFAULT_MELODY, c.leg.mixRate);
			if (this.#held === c && !c.leg.closed) {
				this.#melody = c.leg.play(melody, { loop: true, mode: 'interrupt' });
			}
		} catch (error) {
			this.#log.warn({ err: error }, 'transfer melody unavailable: the client waits in silence');
		}
	}

	async #unhold(): Promise<CallParty | undefined> {
		const c = this.#held;
		this.#held = undefined;
		this.#melody?.stop();
		this.#melody = undefined;
		if (c && !c.ended) {
			await c.join(this.room);
			return c;
		}
		return undefined;
	}

	// -------------------------------------------------------------------
	// Keypad actions

	async #collecting(a: CallParty): Promise<void> {
		const c = this.#other(a);
		if (!this.#attempt && !this.#threeway && c) {
			await this.#hold(c);
		}
	}

	async #cancelDial(a: CallParty): Promise<void> {
		if (!this.#attempt && this.#held && this.#members.has(a)) {
			await this.#unhold();
			this.#syncKeypads();
		}
	}

	async #startTransfer(a: CallParty, target: string): Promise<void> {
		if (this.#ended || this.#attempt || this.#threeway || !this.#members.has(a)) {
			return;
		}
		const c = this.#other(a);
		if (!c) {
			return;
		}
		await this.#hold(c);
		const cfg = this.#deps.config;
		const att: Attempt = {
			kind: 'transfer',
			initiator: a,
			aNumber: a.number,
			client: c,
			target,
			dial: undefined,
			b: undefined,
			timer: undefined,
			noAnswer: false,
			ringback: undefined,
			policy: cfg[this.direction],
		};
		this.#attempt = att;
		this.#log.info({ target, by: a.number, client: c.number }, 'transfer started');
		this.safeEmit('transferstarted', target);
		if (!a.leg.closed) {
			att.ringback = a.leg.play(ringback(a.leg.mixRate), { loop: true, mode: 'interrupt' });
		}
		this.#dial(att, target, this.#callerIdFor(c), cfg.noAnswerSec * 1000);
		this.#syncKeypads();
	}

	#callerIdFor(c: CallParty): { number: string; displayName: string } {
		const id = this.#deps.config.callerId;
		switch (id.mode) {
			case 'called':
				return { number: this.called, displayName: id.displayName };
			case 'fixed':
				return { number: id.number, displayName: id.displayName };
			case 'client':
				return { number: c.number, displayName: c.displayName };
		}
	}

	#dial(att: Attempt, target: string, callerId: { number: string; displayName: string }, timeoutMs: number): void {
		att.target = target;
		att.noAnswer = false;
		const d = this.#deps.dialer.dial(target, { callerId, mixRate: this.room.sampleRate });
		att.dial = d;
		att.timer = this.#deps.clock.setTimeout(() => {
			att.timer = undefined;
			att.noAnswer = true;
			d.cancel();
		}, timeoutMs);
		d.once('answered', (b) => void this.#run(() => this.#answered(att, d, b)));
		d.once('failed', (cause) => void this.#run(() => this.#failed(att, d, att.noAnswer ? 'no-answer' : cause)));
	}

	#stopTimer(att: Attempt): void {
		att.timer?.cancel();
		att.timer = undefined;
	}

	async #answered(att: Attempt, d: DialAttempt, b: CallParty): Promise<void> {
		if (this.#attempt !== att || att.dial !== d || this.#ended) {
			// Answered after * or after the call ended: nobody wants this leg any more.
			await b.hangup('transfer-abandoned');
			return;
		}
		this.#stopTimer(att);
		att.dial = undefined;
		att.ringback?.stop();
		att.ringback = undefined;
		if (att.kind === 'transfer' && att.initiator) {
			// Attended: A and B talk privately; the client stays on hold.
			att.b = b;
			this.#watch(b);
			await b.join(this.room);
			if (!att.client) {
				// The client left while B rang: what remains is A's call to B.
				this.#attempt = undefined;
				this.#addMember(b);
			}
			this.#syncKeypads();
			return;
		}
		// Blind transfer answered, A rung again, or the original route answered.
		this.#attempt = undefined;
		const c = att.client;
		this.#addMember(b);
		await b.join(this.room);
		await this.#unhold();
		this.#syncKeypads();
		this.#log.info({ to: b.number, kind: att.kind }, 'client connected');
		this.safeEmit('transferred', b);
		if (att.kind === 'return' && c) {
			await this.#warn(att.policy, b, c);
		}
	}

	/** The "transfer failed" messages: to A (back with the client) and to the client. */
	async #warn(policy: FailurePolicyConfig, a: CallParty | undefined, c: CallParty | undefined): Promise<void> {
		const play = async (p: CallParty | undefined, msg: VoiceMessageConfig, system: SystemPrompt): Promise<void> => {
			if (!p || p.ended || p.leg.closed) {
				return;
			}
			try {
				const prompt = await this.#deps.messages.get(msg, system, p.leg.mixRate);
				if (prompt && !p.leg.closed) {
					p.leg.play(prompt);
				}
			} catch (error) {
				this.#log.warn({ err: error }, 'transfer message unavailable');
			}
		};
		await Promise.all([play(a, policy.messageToA, 'transfer-failed-back'), play(c, policy.messageToClient, 'transfer-failed-back')]);
	}

	async #failed(att: Attempt, d: DialAttempt, cause: DialFailure): Promise<void> {
		if (this.#attempt !== att || att.dial !== d) {
			return;
		}
		this.#stopTimer(att);
		att.dial = undefined;
		att.ringback?.stop();
		att.ringback = undefined;
		this.#log.info({ target: att.target, cause, kind: att.kind }, 'call attempt failed');
		if (att.kind === 'transfer') {
			this.safeEmit('transferfailed', cause);
		}
		const a = att.initiator;
		if (att.kind === 'transfer' && a) {
			// A is still on the line: A is back with the client.
			this.#attempt = undefined;
			if (att.client) {
				await this.#unhold();
				this.#syncKeypads();
				await this.#warn(att.policy, a, att.client);
			} else {
				await this.#end('transfer-failed', true);
			}
			return;
		}
		await this.#applyPolicy(att, cause);
	}

	/** A is gone and the attempt failed: what the direction's policy says. */
	async #applyPolicy(att: Attempt, cause: DialFailure): Promise<void> {
		const c = att.client;
		const policy = att.policy;
		if (!c || c.ended) {
			await this.#end('transfer-failed', true);
			return;
		}
		if (policy.action === 'return' && att.kind === 'transfer' && att.aNumber !== '') {
			att.kind = 'return';
			this.#dial(att, att.aNumber, this.#callerIdFor(c), policy.returnRingSec * 1000);
			return;
		}
		if (policy.action === 'return' && att.kind === 'return' && policy.rerouteToOriginal && this.called !== '') {
			att.kind = 'reroute';
			this.#dial(att, this.called, { number: c.number, displayName: c.displayName }, policy.returnRingSec * 1000);
			return;
		}
		this.#attempt = undefined;
		this.#melody?.stop();
		this.#melody = undefined;
		this.#held = undefined;
		if (policy.action === 'voicemail' && this.#deps.voicemail) {
			let greeting: Prompt | undefined;
			try {
				greeting = await this.#deps.messages.get(policy.message, 'leave-message', c.leg.mixRate);
			} catch (error) {
				this.#log.warn({ err: error }, 'voicemail greeting unavailable');
			}
			const mailbox = policy.mailbox || att.target;
			await this.#deps.voicemail.leaveMessage(c.leg, { mailbox, caller: c.number, called: this.called, reason: cause, greeting });
		} else {
			try {
				const msg = await this.#deps.messages.get(policy.message, 'transfer-failed-goodbye', c.leg.mixRate);
				if (msg && !c.leg.closed) {
					await c.leg.play(msg, { mode: 'interrupt' }).done;
				}
			} catch (error) {
				this.#log.warn({ err: error }, 'apology message unavailable');
			}
		}
		await this.#end(`transfer-failed-${cause}`, true);
	}

	async #return(a: CallParty): Promise<void> {
		const att = this.#attempt;
		if (this.#threeway && this.#threeway.initiator === a && !att) {
			// In the three-way call the return key drops the third party.
			const third = this.#threeway.third;
			this.#threeway = undefined;
			this.#forget(third);
			await third.hangup('dropped-from-threeway');
			this.#syncKeypads();
			this.safeEmit('returned');
			return;
		}
		if (!att || att.initiator !== a || att.kind !== 'transfer') {
			return;
		}
		this.#attempt = undefined;
		this.#stopTimer(att);
		att.ringback?.stop();
		att.ringback = undefined;
		if (att.dial) {
			att.dial.cancel();
			att.dial = undefined;
		}
		if (att.b) {
			this.#forget(att.b);
			await att.b.hangup('transfer-returned');
		}
		await this.#unhold();
		this.#syncKeypads();
		this.#log.info({ by: a.number }, 'transfer abandoned: back with the client');
		this.safeEmit('returned');
	}

	async #makeThreeway(a: CallParty): Promise<void> {
		const att = this.#attempt;
		if (!att || att.initiator !== a || !att.b) {
			return;
		}
		this.#attempt = undefined;
		this.#addMember(att.b);
		this.#threeway = { initiator: a, third: att.b };
		await this.#unhold();
		this.#syncKeypads();
		this.#log.info('three-way call');
		this.safeEmit('threeway');
	}

	/** `**room`: the other party goes into a conference room; the presser's leg ends. */
	async #toConference(a: CallParty, number: string): Promise<void> {
		const c = this.#other(a);
		if (!c || this.#attempt) {
			return;
		}
		this.#melody?.stop();
		this.#melody = undefined;
		this.#held = undefined;
		await c.leave();
		this.#forget(c);
		if (!(await this.#deps.rooms.enterRoom(c, number, { direct: false }))) {
			this.#log.info({ number }, 'no such conference room: back to the call');
			this.#addMember(c);
			await c.join(this.room);
			this.#syncKeypads();
			return;
		}
		this.#log.info({ number, party: c.number }, 'party moved into a conference room');
		await this.#end('transferred-to-room', true);
	}

	/** `*3`: the other party, then the presser, into the presser's own room. */
	async #adhoc(a: CallParty): Promise<void> {
		const c = this.#other(a);
		if (!c || this.#attempt) {
			return;
		}
		const number = await this.#deps.rooms.privateRoomOf(a.number);
		if (number === undefined) {
			this.#log.info({ user: a.number }, 'ad hoc conference: the user owns no room');
			return;
		}
		await c.leave();
		this.#forget(c);
		if (!(await this.#deps.rooms.enterRoom(c, number, { direct: true }))) {
			this.#addMember(c);
			await c.join(this.room);
			return;
		}
		this.#forget(a);
		if (this.#deps.rooms.hasUserIn(number, a.number)) {
			// The user is in their room already (on another line): this leg is done.
			await a.hangup('adhoc-added');
		} else {
			await a.leave();
			if (!(await this.#deps.rooms.enterRoom(a, number, { direct: true }))) {
				await a.hangup('adhoc-failed');
			}
		}
		this.#log.info({ number, added: c.number }, 'ad hoc conference');
		await this.#end('adhoc', false);
	}

	// -------------------------------------------------------------------
	// Hang-ups

	async #partyEnded(p: CallParty, reason: string): Promise<void> {
		if (this.#ended) {
			return;
		}
		const att = this.#attempt;
		if (att && att.b === p && !this.#members.has(p)) {
			// B hung up (or declined after answering) while consulting: A is back with the client.
			this.#forget(p);
			att.b = undefined;
			this.#attempt = undefined;
			if (att.initiator && att.client) {
				await this.#unhold();
				this.#syncKeypads();
				this.safeEmit('returned');
			} else {
				await this.#end('consult-ended', true);
			}
			return;
		}
		this.#forget(p);
		if (this.#threeway && this.#members.size < 3) {
			this.#threeway = undefined;
		}
		if (att) {
			if (p === att.initiator) {
				att.initiator = undefined;
				if (att.b) {
					// Attended transfer: A hung up after talking to B.
					const b = att.b;
					this.#attempt = undefined;
					this.#addMember(b);
					await this.#unhold();
					this.#syncKeypads();
					this.#log.info({ to: b.number }, 'attended transfer complete');
					this.safeEmit('transferred', b);
				} else {
					// Blind transfer: keep ringing B for the client.
					this.#log.info({ target: att.target }, 'blind transfer: ringing on for the client');
					this.#syncKeypads();
				}
				return;
			}
			if (p === att.client) {
				att.client = undefined;
				this.#held = undefined;
				this.#melody = undefined;
				if (att.b && att.initiator) {
					// The client left while A consulted B: A and B go on talking.
					const b = att.b;
					this.#attempt = undefined;
					this.#addMember(b);
					this.#syncKeypads();
				} else if (!att.initiator) {
					this.#attempt = undefined;
					this.#stopTimer(att);
					att.dial?.cancel();
					att.dial = undefined;
					await this.#end(reason, true);
				}
				return;
			}
		}
		if (this.#held === p) {
			this.#held = undefined;
			this.#melody = undefined;
		} else if (this.#held) {
			// The presser left while dialing a target: the client comes off hold (and is alone).
			await this.#unhold();
		}
		if (this.#members.size <= 1) {
			await this.#end(reason, true);
			return;
		}
		this.#syncKeypads();
	}

	/** Ends the call: attempts cancelled, timers stopped, parties hung up (or handed on), the room closed. */
	async #end(reason: string, hangup: boolean): Promise<void> {
		if (this.#ended) {
			return;
		}
		this.#ended = true;
		const att = this.#attempt;
		this.#attempt = undefined;
		if (att) {
			this.#stopTimer(att);
			att.ringback?.stop();
			att.dial?.cancel();
			if (att.b) {
				this.#members.add(att.b);
			}
		}
		this.#melody?.stop();
		this.#melody = undefined;
		this.#held = undefined;
		this.#threeway = undefined;
		const parties = [...this.#members];
		for (const p of [...this.#unsubscribe.keys()]) {
			this.#forget(p);
		}
		if (hangup) {
			await Promise.all(parties.map((p) => p.hangup(reason)));
		}
		await this.#deps.rooms.closeBridge(this.room).catch((error: unknown) => this.#log.warn({ err: error }, 'closing the bridge failed'));
		this.#log.info({ reason }, 'call ended');
		this.safeEmit('ended', reason);
	}

	#run(fn: () => Promise<void>): Promise<void> {
		const run = this.#queue.then(fn).catch((error: unknown) => {
			this.#log.error({ err: error }, 'call feature step failed');
		});
		this.#queue = run;
		return run;
	}

	/** @internal The caller as the call began (the originate API rings it first). */
	get caller(): CallParty {
		return this.#caller;
	}
}
