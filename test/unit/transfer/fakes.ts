/**
 * In-memory call parties, dialer and rooms for the transfer state machine's
 * unit tests: they record what the feature did (joins, prompts, hang-ups,
 * dials) so each path can be checked step by step. The integration tests
 * run the same paths over real SIP and RTP.
 */
import { TypedEmitter } from '../../../src/common/events.js';
import { logger } from '../../../src/common/logger.js';
import { ManualClock } from '../../../src/common/time.js';
import type { PlaybackEnd, PlaybackHandle, PlayOptions, Prompt, RecordingHandle, RecordOptions } from '../../../src/media/index.js';
import { FeatureCall, type FeatureDeps } from '../../../src/transfer/call.js';
import { defaultTransferConfig, type TransferConfig } from '../../../src/transfer/config.js';
import { VoiceMessages } from '../../../src/transfer/messages.js';
import type { BridgeRoom, CallParty, CallPartyEvents, DialAttempt, DialAttemptEvents, DialFailure, DialOptions, Dialer, PartyLeg, RoomProvider } from '../../../src/transfer/types.js';

export class FakeLeg implements PartyLeg {
	readonly mixRate = 8000;
	closed = false;
	/** Prompt names as played, with 'loop:' for loops; 'stop' when stopped. */
	readonly played: string[] = [];
	readonly #active = new Set<{ resolve: (e: PlaybackEnd) => void; loop: boolean }>();

	play(prompt: Prompt, opts: PlayOptions = {}): PlaybackHandle {
		const name = prompt.name.split('/').slice(-2).join('/');
		this.played.push(opts.loop ? `loop:${name}` : name);
		let resolve!: (e: PlaybackEnd) => void;
		const done = new Promise<PlaybackEnd>((r) => (resolve = r));
		const item = { resolve, loop: opts.loop === true };
		this.#active.add(item);
		if (!item.loop) {
			// One-shot prompts "finish" at once.
			queueMicrotask(() => {
				this.#active.delete(item);
				resolve('finished');
			});
		}
		return {
			done,
			stop: () => {
				if (this.#active.delete(item)) {
					resolve('stopped');
				}
			},
		};
	}

	/** Loops still playing. */
	get looping(): number {
		return [...this.#active].filter((i) => i.loop).length;
	}

	stopPlayback(): void {
		for (const i of this.#active) {
			i.resolve('stopped');
		}
		this.#active.clear();
	}

	record(_opts: RecordOptions): RecordingHandle {
		throw new Error('not used');
	}
}

export class FakeParty extends TypedEmitter<CallPartyEvents> implements CallParty {
	static #seq = 0;
	readonly id = `p${++FakeParty.#seq}`;
	readonly leg = new FakeLeg();
	room: BridgeRoom | undefined;
	ended = false;
	endReason = '';
	readonly dtmfSent: string[] = [];
	readonly rooms: string[] = [];

	constructor(
		readonly number: string,
		readonly isUser: boolean,
		readonly displayName = '',
	) {
		super();
	}

	async join(room: BridgeRoom): Promise<void> {
		this.room = room;
		this.rooms.push(room.id);
	}

	async leave(): Promise<void> {
		this.room = undefined;
		this.rooms.push('-');
	}

	async hangup(reason: string): Promise<void> {
		this.#end(reason);
	}

	/** The phone hangs up (BYE from its side). */
	bye(): void {
		this.#end('bye');
	}

	#end(reason: string): void {
		if (this.ended) {
			return;
		}
		this.ended = true;
		this.endReason = reason;
		this.room = undefined;
		this.leg.closed = true;
		this.leg.stopPlayback();
		this.safeEmit('ended', reason);
	}

	sendDtmf(digit: string): void {
		this.dtmfSent.push(digit);
	}

	press(keys: string): void {
		for (const k of keys) {
			this.emit('dtmf', k);
		}
	}
}

export class FakeAttempt extends TypedEmitter<DialAttemptEvents> implements DialAttempt {
	done = false;
	cancelled = false;

	constructor(
		readonly target: string,
		readonly opts: DialOptions,
	) {
		super();
	}

	answer(p: FakeParty): void {
		if (!this.done) {
			this.done = true;
			this.safeEmit('answered', p);
		}
	}

	fail(cause: DialFailure, status = 486): void {
		if (!this.done) {
			this.done = true;
			this.safeEmit('failed', cause, status);
		}
	}

	cancel(): void {
		if (!this.done) {
			this.cancelled = true;
			this.fail('cancelled', 487);
		}
	}
}

export class FakeDialer implements Dialer {
	readonly attempts: FakeAttempt[] = [];

	dial(target: string, opts: DialOptions): DialAttempt {
		const a = new FakeAttempt(target, opts);
		this.attempts.push(a);
		return a;
	}

	get last(): FakeAttempt {
		const a = this.attempts.at(-1);
		if (!a) {
			throw new Error('nothing dialed');
		}
		return a;
	}
}

export class FakeRooms implements RoomProvider {
	readonly closed: string[] = [];
	readonly entered: Array<{ party: string; number: string; direct: boolean }> = [];
	readonly owned = new Map<string, string>();
	readonly present = new Set<string>();
	readonly known = new Set<string>(['1000']);
	#seq = 0;

	async createBridge(sampleRate: number): Promise<BridgeRoom> {
		return { id: `bridge${++this.#seq}`, sampleRate };
	}

	async closeBridge(room: BridgeRoom): Promise<void> {
		this.closed.push(room.id);
	}

	async privateRoomOf(extension: string): Promise<string | undefined> {
		return this.owned.get(extension);
	}

	async enterRoom(party: CallParty, number: string, opts: { direct: boolean }): Promise<boolean> {
		if (!this.known.has(number)) {
			return false;
		}
		this.entered.push({ party: party.number, number, direct: opts.direct });
		this.present.add(`${number}/${party.number}`);
		return true;
	}

	hasUserIn(number: string, extension: string): boolean {
		return this.present.has(`${number}/${extension}`);
	}
}

export interface Rig {
	call: FeatureCall;
	clock: ManualClock;
	dialer: FakeDialer;
	rooms: FakeRooms;
	voicemail: Array<{ mailbox: string; caller: string; reason: string; greeting: string | undefined }>;
	client: FakeParty;
	a: FakeParty;
	/** Lets queued feature steps run. */
	settle(): Promise<void>;
}

/** A client (outside number) who called employee A (extension 2001) on 2001, or `init` overrides. */
export async function rig(cfg: (c: TransferConfig) => void = () => undefined, opts: { clientIsCaller?: boolean } = {}): Promise<Rig> {
	const config = defaultTransferConfig();
	cfg(config);
	const clock = new ManualClock();
	const dialer = new FakeDialer();
	const rooms = new FakeRooms();
	const voicemail: Rig['voicemail'] = [];
	const deps: FeatureDeps = {
		config,
		dialer,
		rooms,
		messages: new VoiceMessages({ ttsDir: '/nonexistent-tts' }),
		voicemail: {
			async leaveMessage(_leg, o) {
				voicemail.push({ mailbox: o.mailbox, caller: o.caller, reason: o.reason, greeting: o.greeting?.name.split('/').slice(-2).join('/') });
				return undefined;
			},
		},
		clock,
		log: logger,
	};
	const client = new FakeParty('+4930555', false, 'Client');
	const a = new FakeParty('2001', true, 'Alice');
	const room = await rooms.createBridge(8000);
	await client.join(room);
	await a.join(room);
	const clientIsCaller = opts.clientIsCaller ?? true;
	const call = new FeatureCall({ room, caller: clientIsCaller ? client : a, callee: clientIsCaller ? a : client, called: '2001' }, deps);
	const settle = async (): Promise<void> => {
		for (let i = 0; i < 20; i++) {
			await call.settled();
			await new Promise((r) => setImmediate(r));
		}
	};
	return { call, clock, dialer, rooms, voicemail, client, a, settle };
}
