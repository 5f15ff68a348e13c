import { hasAccessControl, type RoomRecord, type UserRecord } from '../store/index.js';
import type { ParticipantView } from './live.js';

/** What the API shows in place of a PIN unless asked to reveal it. */
export const PIN_MASK = '****';

export function roomView(r: RoomRecord, revealPin: boolean) {
	return {
		number: r.number,
		name: r.name,
		language: r.language,
		sampleRate: r.sampleRate,
		accessMode: r.accessMode,
		accessControl: hasAccessControl(r),
		pin: revealPin ? r.pin : PIN_MASK,
		pinLength: r.pinLength,
		whitelist: [...r.whitelist],
		maxParticipants: r.maxParticipants,
		musicOnHold: r.musicOnHold,
		announceNames: r.announceNames,
		owner: r.owner,
		createdAt: r.createdAt.toISOString(),
		updatedAt: r.updatedAt.toISOString(),
	};
}

/** A user as the API shows it: never a password or a hash. */
export function userView(u: UserRecord) {
	return {
		extension: u.extension,
		displayName: u.displayName,
		createdAt: u.createdAt.toISOString(),
		updatedAt: u.updatedAt.toISOString(),
	};
}

export function participantView(p: ParticipantView) {
	return {
		id: p.id,
		displayName: p.displayName,
		callerId: p.callerId,
		joinedAt: p.joinedAt.toISOString(),
		talking: p.talking,
		muted: p.muted,
	};
}
