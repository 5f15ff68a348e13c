import { TypedEmitter } from '../common/events.js';
import { InvalidStateError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { PcmRing } from '../mixer/ring-buffer.js';

/** What the mixer needs from a room to run it (MixerHost implements this). */
export interface RoomMixer {
	createRoom(roomId: string, sampleRate: number): Promise<void>;
	closeRoom(roomId: string): Promise<void>;
	addParticipant(roomId: string, participantId: string, rings: { input: PcmRing; output: PcmRing }): Promise<void>;
	removeParticipant(roomId: string, participantId: string): Promise<void>;
}

export interface ParticipantInfo {
	id: string;
	/** Caller's display name or number, for logs and the live view. */
	displayName: string;
	callId: string;
	joinedAt: Date;
}

export interface Participant extends ParticipantInfo {
	/** leg → mixer (what the caller says) and mixer → leg (what they hear). */
	rings: { input: PcmRing; output: PcmRing };
	/**
	 * A room-level player or recorder, not a caller: in the mix, but not in
	 * participants(), size or the joined/left events.
	 */
	hidden?: boolean;
}

export type RoomEvents = {
	participantjoined: [ParticipantInfo];
	participantleft: [ParticipantInfo];
	close: [];
};

/**
 * A conference room. Its mixer room exists only while someone is in it, so an
 * idle configured room costs no mixer ticks. Joins and leaves are serialised
 * per room so a leave racing a join can never close the mixer room under it.
 */
export class Room extends TypedEmitter<RoomEvents> {
	readonly id: string;
	readonly name: string;
	readonly number: string;
	readonly sampleRate: number;
	readonly #mixer: RoomMixer;
	readonly #log: Logger;
	readonly #participants = new Map<string, Participant>();
	#mixerOpen = false;
	#queue: Promise<unknown> = Promise.resolve();
	#closed = false;

	/** @internal Created by RoomRegistry. */
	constructor(opts: { id: string; name: string; number: string; sampleRate: number; mixer: RoomMixer; log: Logger }) {
		super();
		this.id = opts.id;
		this.name = opts.name;
		this.number = opts.number;
		this.sampleRate = opts.sampleRate;
		this.#mixer = opts.mixer;
		this.#log = opts.log.child({ room: opts.number });
	}

	get closed(): boolean {
		return this.#closed;
	}

	/** Callers in the room (hidden players and recorders not counted). */
	get size(): number {
		return this.#participants.size - this.#hiddenCount;
	}

	#hiddenCount = 0;

	/** Frame size legs must use for this room's rings (20 ms). */
	get frameSamples(): number {
		return (this.sampleRate * 20) / 1000;
	}

	participants(): ParticipantInfo[] {
		const out: ParticipantInfo[] = [];
		for (const p of this.#participants.values()) {
			if (p.hidden !== true) {
				out.push({ id: p.id, displayName: p.displayName, callId: p.callId, joinedAt: p.joinedAt });
			}
		}
		return out;
	}

	#serial<T>(fn: () => Promise<T>): Promise<T> {
		const run = this.#queue.then(fn, fn);
		this.#queue = run.catch(() => undefined);
		return run;
	}

	join(p: Participant): Promise<void> {
		return this.#serial(async () => {
			if (this.#closed) {
				throw new InvalidStateError(`room ${this.number} is closed`);
			}
			if (!this.#mixerOpen) {
				await this.#mixer.createRoom(this.id, this.sampleRate);
				this.#mixerOpen = true;
			}
			await this.#mixer.addParticipant(this.id, p.id, p.rings);
			this.#participants.set(p.id, p);
			if (p.hidden === true) {
				this.#hiddenCount++;
				return;
			}
			const info: ParticipantInfo = { id: p.id, displayName: p.displayName, callId: p.callId, joinedAt: p.joinedAt };
			this.#log.info({ participant: p.id, caller: p.displayName, size: this.size }, 'participant joined');
			this.safeEmit('participantjoined', info);
		});
	}

	leave(participantId: string): Promise<void> {
		return this.#serial(async () => {
			const p = this.#participants.get(participantId);
			if (!p) {
				return;
			}
			this.#participants.delete(participantId);
			if (p.hidden === true) {
				this.#hiddenCount--;
				if (this.#mixerOpen) {
					await this.#mixer.removeParticipant(this.id, participantId);
					if (this.#participants.size === 0) {
						this.#mixerOpen = false;
						await this.#mixer.closeRoom(this.id);
					}
				}
				return;
			}
			const seconds = Math.round((Date.now() - p.joinedAt.getTime()) / 1000);
			this.#log.info({ participant: p.id, caller: p.displayName, size: this.size, seconds }, 'participant left');
			try {
				if (this.#mixerOpen) {
					await this.#mixer.removeParticipant(this.id, participantId);
					if (this.#participants.size === 0) {
						this.#mixerOpen = false;
						await this.#mixer.closeRoom(this.id);
					}
				}
			} finally {
				this.safeEmit('participantleft', { id: p.id, displayName: p.displayName, callId: p.callId, joinedAt: p.joinedAt });
			}
		});
	}

	/** @internal Called by the registry on shutdown or when the room is removed. */
	roomClosed(): Promise<void> {
		return this.#serial(async () => {
			if (this.#closed) {
				return;
			}
			this.#closed = true;
			this.#participants.clear();
			this.#hiddenCount = 0;
			if (this.#mixerOpen) {
				this.#mixerOpen = false;
				await this.#mixer.closeRoom(this.id).catch(() => undefined);
			}
			this.safeEmit('close');
		});
	}
}
