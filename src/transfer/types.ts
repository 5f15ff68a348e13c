/**
 * What the transfer feature needs from the call layer (the B2BUA). These are
 * structural: the B2BUA's call party and dialer fit them through a thin
 * adapter, and unit tests drive the feature logic through small in-memory
 * versions.
 */
import type { TypedEmitter } from '../common/events.js';
import type { PlaybackHandle, PlayOptions, Prompt, RecordingHandle, RecordOptions } from '../media/index.js';

/** A room of the mixer as a party joins it (a two-party call is a room of two). */
export interface BridgeRoom {
	readonly id: string;
	/** Mix rate; parties' legs run at it. */
	readonly sampleRate: number;
}

/** A caller's media leg as features use it: prompts and recordings. */
export interface PartyLeg {
	readonly mixRate: number;
	readonly closed: boolean;
	play(prompt: Prompt, opts?: PlayOptions): PlaybackHandle;
	stopPlayback(): void;
	record(opts: RecordOptions): RecordingHandle;
}

export type CallPartyEvents = {
	/** A key press (RFC 4733, SIP INFO or in-band), one per digit. */
	dtmf: [digit: string];
	/** The party's dialog ended (BYE either way, RTP timeout …); emitted once. */
	ended: [reason: string];
};

/** One side of a call: a dialog, its media leg and the room it is in (if any). */
export interface CallParty extends TypedEmitter<CallPartyEvents> {
	readonly id: string;
	/** The party's number (user part of its identity): an extension or an outside number. */
	readonly number: string;
	readonly displayName: string;
	/** A registered user of this server (an employee's phone). */
	readonly isUser: boolean;
	readonly leg: PartyLeg;
	readonly room: BridgeRoom | undefined;
	readonly ended: boolean;
	/** Moves the party into `room` (leaving the one it is in). */
	join(room: BridgeRoom): Promise<void>;
	/** Leaves its room; the leg stays up (hold, prompts). */
	leave(): Promise<void>;
	/** Ends the party's dialog (BYE). Idempotent. */
	hangup(reason: string): Promise<void>;
	/** Sends a digit to the party's phone (RFC 4733), when the leg can. */
	sendDtmf?(digit: string): void;
}

/** Why a call attempt ended without an answer. */
export type DialFailure = 'busy' | 'no-answer' | 'unreachable' | 'rejected' | 'cancelled';

export type DialAttemptEvents = {
	/** 180/183 from the target. */
	ringing: [];
	answered: [CallParty];
	failed: [cause: DialFailure, status: number];
};

/** An outgoing call being placed for a transfer; ends in exactly one of answered/failed. */
export interface DialAttempt extends TypedEmitter<DialAttemptEvents> {
	/** CANCEL while ringing (then 'failed' with 'cancelled'); no-op after the end. */
	cancel(): void;
}

export interface DialOptions {
	/** What the target sees as the caller. */
	callerId: { number: string; displayName: string };
	/** Mix rate of the room the answered party will join. */
	mixRate: number;
}

/** Places outgoing calls: an extension, a ring group, a SIP URI, an outside number via a trunk. */
export interface Dialer {
	dial(target: string, opts: DialOptions): DialAttempt;
}

/** Rooms as the transfer feature needs them. */
export interface RoomProvider {
	/** A fresh room for a two- (or three-) party call; closed by closeBridge. */
	createBridge(sampleRate: number): Promise<BridgeRoom>;
	closeBridge(room: BridgeRoom): Promise<void>;
	/** The number of the private room a user owns (ad hoc conferences), if any. */
	privateRoomOf(extension: string): Promise<string | undefined>;
	/**
	 * Hands the party to a conference room's entry (its access rules: PIN,
	 * whitelist, cap …; `direct` skips them for the owner's own guests).
	 * From here the room owns the party. false: no such room.
	 */
	enterRoom(party: CallParty, number: string, opts: { direct: boolean }): Promise<boolean>;
	/** Whether a party of this user is already in the room (ad hoc: the user is there already). */
	hasUserIn(number: string, extension: string): boolean;
}
