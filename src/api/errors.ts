import { ServerError } from '../common/errors.js';

/** No or a wrong `Authorization: Bearer <token>`. */
export class UnauthorizedError extends ServerError {
	constructor(message = 'missing or invalid API token (Authorization: Bearer <token>)') {
		super('UNAUTHORIZED', message);
	}
}

export class ParticipantNotFoundError extends ServerError {
	constructor(number: string, id: string) {
		super('PARTICIPANT_NOT_FOUND', `no participant ${id} in room ${number}`);
	}
}

/** The room is configured but the live registry does not know it (yet). */
export class RoomNotLiveError extends ServerError {
	constructor(number: string) {
		super('ROOM_NOT_LIVE', `room ${number} is not in the live registry`);
	}
}

/** The API was created without a LiveView: moderation is not available. */
export class LiveUnavailableError extends ServerError {
	constructor() {
		super('LIVE_UNAVAILABLE', 'live room control is not available on this server');
	}
}

export class WhitelistEntryNotFoundError extends ServerError {
	constructor(number: string, caller: string) {
		super('WHITELIST_ENTRY_NOT_FOUND', `${caller} is not on the whitelist of room ${number}`);
	}
}

/** HTTP status per error code; anything not listed is a 500. */
export const HTTP_STATUS: Readonly<Record<string, number>> = {
	INVALID_INPUT: 400,
	PIN_INVALID: 400,
	WHITELIST_INVALID: 400,
	OWNER_UNKNOWN: 400,
	UNAUTHORIZED: 401,
	ROOM_NOT_FOUND: 404,
	ROOM_NOT_LIVE: 404,
	USER_NOT_FOUND: 404,
	PARTICIPANT_NOT_FOUND: 404,
	WHITELIST_ENTRY_NOT_FOUND: 404,
	ROOM_NUMBER_TAKEN: 409,
	EXTENSION_TAKEN: 409,
	LIVE_UNAVAILABLE: 503,
};
