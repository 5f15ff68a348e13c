import type { PcmRing } from '../mixer/ring-buffer.js';

/**
 * What room-level players and recorders need from a room: its mix rate and
 * a way in and out of its mix. rooms/Room fits; media does not import rooms
 * (imports go down), so this is structural.
 */
export interface MixRoomLike {
	readonly sampleRate: number;
	join(p: {
		id: string;
		displayName: string;
		callId: string;
		joinedAt: Date;
		rings: { input: PcmRing; output: PcmRing };
		/** Not a caller: kept out of participant lists and counts. */
		hidden?: boolean;
	}): Promise<void>;
	leave(participantId: string): Promise<void>;
}

/** The media clock as room-level players and recorders use it (MediaClock). */
export interface FrameClock {
	add(leg: { sendFrame(): void; readonly closed: boolean }): void;
	remove(leg: { sendFrame(): void; readonly closed: boolean }): void;
}
