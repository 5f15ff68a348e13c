import { ServerError } from '../common/errors.js';

/** Stable codes for mixer failures; the same codes cross the worker boundary. */
export type MixerErrorCode =
	| 'MIXER_ROOM_NOT_FOUND'
	| 'MIXER_ROOM_EXISTS'
	| 'MIXER_PARTICIPANT_NOT_FOUND'
	| 'MIXER_PARTICIPANT_EXISTS'
	| 'MIXER_FRAME_MISMATCH'
	| 'MIXER_RING_IN_USE'
	| 'MIXER_BAD_REQUEST'
	| 'MIXER_TIMEOUT'
	| 'MIXER_WORKER_DIED';

export class MixerError extends ServerError {
	declare readonly code: MixerErrorCode;

	constructor(code: MixerErrorCode, message: string, options?: { cause?: unknown }) {
		super(code, message, options);
	}
}
