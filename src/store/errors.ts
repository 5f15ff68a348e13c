import { ServerError } from '../common/errors.js';

export { RoomNotFoundError } from '../common/errors.js';

/**
 * Input the store refuses: `field` names the offending property (e.g. `pin`,
 * `whitelist[2]`) so the API can say which one in its 400.
 */
export class ValidationError extends ServerError {
	readonly field: string;

	constructor(field: string, message: string, code = 'INVALID_INPUT') {
		super(code, message);
		this.field = field;
	}
}

/** A PIN that is not digits only, or has the wrong length for its room. */
export class PinInvalidError extends ValidationError {
	constructor(message: string) {
		super('pin', message, 'PIN_INVALID');
	}
}

/** A whitelist entry that is not a caller number. */
export class WhitelistInvalidError extends ValidationError {
	constructor(field: string, message: string) {
		super(field, message, 'WHITELIST_INVALID');
	}
}

/** A room's owner that is not a known user. */
export class OwnerUnknownError extends ValidationError {
	constructor(extension: string) {
		super('owner', `owner ${extension} is not a known user`, 'OWNER_UNKNOWN');
	}
}

/** The number is already a room's number or a user's extension. */
export class RoomNumberTakenError extends ServerError {
	readonly number: string;
	/** What holds it now. */
	readonly holder: 'room' | 'user';

	constructor(number: string, holder: 'room' | 'user') {
		super('ROOM_NUMBER_TAKEN', holder === 'room' ? `room number ${number} is already taken by another room` : `room number ${number} is a user's extension`);
		this.number = number;
		this.holder = holder;
	}
}

/** The extension is already a user's extension or a room's number. */
export class ExtensionTakenError extends ServerError {
	readonly extension: string;
	readonly holder: 'room' | 'user';

	constructor(extension: string, holder: 'room' | 'user') {
		super('EXTENSION_TAKEN', holder === 'user' ? `extension ${extension} is already taken by another user` : `extension ${extension} is a room's number`);
		this.extension = extension;
		this.holder = holder;
	}
}

export class UserNotFoundError extends ServerError {
	constructor(extension: string) {
		super('USER_NOT_FOUND', `no user with extension ${extension}`);
	}
}

/** The database file was written by a newer version (or its migration history is broken). */
export class MigrationError extends ServerError {
	constructor(message: string, options?: { cause?: unknown }) {
		super('STORE_MIGRATION', message, options);
	}
}
