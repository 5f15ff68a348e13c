/**
 * Errors with stable codes (undici/mediasoup style). Callers branch on `code`,
 * never on message text.
 */
export class ServerError extends Error {
	readonly code: string;

	constructor(code: string, message: string, options?: { cause?: unknown }) {
		super(message, options);
		this.name = new.target.name;
		this.code = code;
	}
}

/** A method was called on something already closed, or in the wrong state. */
export class InvalidStateError extends ServerError {
	constructor(message = 'invalid state') {
		super('INVALID_STATE', message);
	}
}

/** A feature or parameter we do not support. */
export class UnsupportedError extends ServerError {
	constructor(message = 'unsupported') {
		super('UNSUPPORTED', message);
	}
}

/** A SIP-level failure that maps to a final response status. */
export class SipError extends ServerError {
	readonly status: number;
	readonly reason: string;

	constructor(status: number, reason: string, message?: string) {
		super('SIP_' + status, message ?? `${status} ${reason}`);
		this.status = status;
		this.reason = reason;
	}
}

/** Malformed SIP input: the reason phrase for the 400 says what is wrong. */
export class SipParseError extends ServerError {
	/**
	 * What could be read before the error: enough (Via, From, To, Call-ID,
	 * CSeq) to answer a broken request with 400, or absent when not.
	 */
	readonly partial: import('../sip/message/types.js').SipRequest | undefined;

	constructor(message: string, partial?: import('../sip/message/types.js').SipRequest) {
		super('SIP_PARSE', message);
		this.partial = partial;
	}
}

/** Invalid configuration: the message names the key. */
export class ConfigError extends ServerError {
	constructor(message: string) {
		super('CONFIG_INVALID', message);
	}
}

/** No free RTP port left in the configured range. */
export class PortsExhaustedError extends ServerError {
	constructor(message = 'no free RTP port in the configured range') {
		super('PORTS_EXHAUSTED', message);
	}
}

export class RoomNotFoundError extends ServerError {
	constructor(number: string) {
		super('ROOM_NOT_FOUND', `no room with number ${number}`);
	}
}
