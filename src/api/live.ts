/**
 * What the API needs from the live side (the room registry and calls) to
 * show and moderate rooms in progress. The server implements it; the API
 * only calls it for rooms that exist in the store.
 */

export interface ParticipantView {
	/** Stable for the participant's time in the room; used in moderation URLs. */
	id: string;
	/** The caller's display name, or their number when they sent none. */
	displayName: string;
	/** The caller's number (From user part), or null when anonymous. */
	callerId: string | null;
	joinedAt: Date;
	/** Currently speaking (talker detection). */
	talking: boolean;
	muted: boolean;
}

export interface LiveView {
	/** Who is in the room now (empty when nobody is, or the room is not live). */
	participants(number: string): ParticipantView[] | Promise<ParticipantView[]>;
	/** Mutes or unmutes one participant; false when there is no such participant. */
	mute(number: string, id: string, muted: boolean): boolean | Promise<boolean>;
	/** Hangs up one participant; false when there is no such participant. */
	kick(number: string, id: string): boolean | Promise<boolean>;
	/** Ends the conference for everyone; returns how many were in it. */
	end(number: string): number | Promise<number>;
	/** Locks (no new joins) or unlocks the room; false when the live registry has no such room. */
	lock(number: string, locked: boolean): boolean | Promise<boolean>;
}
