import { UnsupportedError } from '../../common/errors.js';
import type { AudioCodec, CodecName } from './codec.js';
import { G722Codec } from './g722-codec.js';
import { PCMA, PCMU } from './g711.js';
import { L16_16000, L16_8000 } from './l16.js';
import { OpusCodec, opusAvailable } from './opus.js';

export type { AudioCodec, CodecName } from './codec.js';
export { PCMU, PCMA, linearToUlaw, ulawToPcm, linearToAlaw, alawToPcm, ULAW_SILENCE, ALAW_SILENCE } from './g711.js';
export { G722Codec } from './g722-codec.js';
export { G722Decoder, G722Encoder, G722_PAYLOAD_TYPE, G722_RTP_CLOCK_RATE, G722_SAMPLE_RATE } from './g722.js';
export { L16_8000, L16_16000, L16_RATES } from './l16.js';
export {
	DEFAULT_BITRATE as OPUS_DEFAULT_BITRATE,
	OPUS_LOCAL_FMTP,
	OPUS_PAYLOAD_TYPE,
	OPUS_RATE,
	OpusCodec,
	opusAvailable,
	parseFmtpParams,
	parseOpusFmtp,
} from './opus.js';
export type { OpusFmtp } from './opus.js';
export { Resampler } from './resample.js';
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

/** Canonical codec name for an SDP encoding name (case-insensitive), or undefined. */
export function canonicalCodecName(name: string): CodecName | undefined {
	switch (name.toUpperCase()) {
		case 'PCMU': {
			return 'PCMU';
		}
		case 'PCMA': {
			return 'PCMA';
		}
		case 'G722': {
			return 'G722';
		}
		case 'OPUS': {
			return 'opus';
		}
		case 'L16': {
			return 'L16';
		}
		default: {
			return undefined;
		}
	}
}

/** The RTP clock rate a codec uses when the SDP does not say (L16: 8000). */
export function defaultClockRate(name: CodecName): number {
	return name === 'opus' ? 48000 : 8000;
}

/**
 * Whether createCodec() accepts this name and RTP clock rate (and, for opus,
 * whether its native binding loads here).
 */
export function isCodecSupported(name: string, clockRate?: number): boolean {
	const n = canonicalCodecName(name);
	if (n === undefined) {
		return false;
	}
	const rate = clockRate ?? defaultClockRate(n);
	switch (n) {
		case 'PCMU':
		case 'PCMA':
		case 'G722': {
			return rate === 8000;
		}
		case 'L16': {
			return rate === 8000 || rate === 16000;
		}
		case 'opus': {
			return rate === 48000 && opusAvailable();
		}
	}
}

/**
 * A codec for one leg, by SDP encoding name (case-insensitive), RTP clock rate
 * (default: the codec's usual one) and the far end's fmtp config for its
 * payload type. Stateful codecs (G.722, Opus) are new instances on every call;
 * stateless ones (G.711, L16) are shared. Throws UnsupportedError for anything
 * else.
 */
export function createCodec(name: string, clockRate?: number, fmtp?: string): AudioCodec {
	const n = canonicalCodecName(name);
	if (n === undefined || !isCodecSupported(n, clockRate)) {
		if (n === 'opus' && (clockRate ?? 48000) === 48000) {
			// The binding did not load: let its reason through.
			return new OpusCodec(fmtp);
		}
		throw new UnsupportedError(`codec ${name}/${clockRate ?? '?'} is not supported`);
	}
	switch (n) {
		case 'PCMU': {
			return PCMU;
		}
		case 'PCMA': {
			return PCMA;
		}
		case 'G722': {
			return new G722Codec();
		}
		case 'L16': {
			return (clockRate ?? 8000) === 16000 ? L16_16000 : L16_8000;
		}
		case 'opus': {
			return new OpusCodec(fmtp);
		}
	}
}

/**
 * The codec for an SDP encoding name at its usual clock rate; createCodec()
 * with defaults. Stateful codecs come back as fresh instances.
 */
export function codecByName(name: string): AudioCodec {
	return createCodec(name);
}
