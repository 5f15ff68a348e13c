import { UnsupportedError } from '../../common/errors.js';
import type { AudioCodec } from './codec.js';
import { PCMA, PCMU } from './g711.js';

export type { AudioCodec, CodecName } from './codec.js';
export { PCMU, PCMA, linearToUlaw, ulawToPcm, linearToAlaw, alawToPcm, ULAW_SILENCE, ALAW_SILENCE } from './g711.js';
export {
	DtmfReceiver,
	TELEPHONE_EVENT_SIZE,
	dtmfDigit,
	dtmfEvent,
	encodeTelephoneEvent,
	parseTelephoneEvent,
	readDuration,
	readEnd,
	readEvent,
	readVolume,
} from './telephone-event.js';
export type { TelephoneEvent } from './telephone-event.js';

/** The codec instance for an SDP encoding name (case-insensitive). */
export function codecByName(name: string): AudioCodec {
	switch (name.toUpperCase()) {
		case 'PCMU': {
			return PCMU;
		}
		case 'PCMA': {
			return PCMA;
		}
		default: {
			throw new UnsupportedError(`codec ${name} is not supported`);
		}
	}
}
