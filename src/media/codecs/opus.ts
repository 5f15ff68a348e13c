import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { UnsupportedError } from '../../common/errors.js';
import type { AudioCodec, CodecName } from './codec.js';

/**
 * Opus (RFC 6716, RTP payload RFC 7587) over the libopus binding
 * `@discordjs/opus`: 48 kHz mono, 20 ms frames, RTP clock 48000 (960 per
 * packet), SDP `opus/48000/2` with a dynamic payload type.
 *
 * One instance per leg: the binding's OpusEncoder object holds a libopus
 * encoder and a decoder (each created on first use), so one instance serves
 * both directions of a leg. An encode costs ~180 µs, a decode ~30 µs.
 *
 * What the far end's fmtp asks of our encoder (RFC 7587 §6.1: it describes
 * what the far end receives best):
 * - useinbandfec=1: in-band FEC (LBRR) on, tuned for 10 % loss;
 * - usedtx=1: DTX; silent frames come out as 1-2 byte packets, which are not
 *   sent (encode() returns 0), except libopus's refresh every 400 ms;
 * - maxplaybackrate: caps the coded bandwidth (8000 → narrowband …);
 * - maxaveragebitrate: caps the bitrate (else DEFAULT_BITRATE);
 * - cbr=1: constant bitrate.
 *
 * Decoding: the binding's decode() has no decode_fec flag and conceals a loss
 * only over 120 ms, so FEC data in received packets cannot be used and a lost
 * packet is a 20 ms gap, as for the other codecs. Our SDP says so with
 * useinbandfec=0 (OPUS_LOCAL_FMTP).
 *
 * Allocation: the binding returns a new Buffer for each encode and decode.
 * Everything on our side is preallocated: input views for each payload length
 * are made once and kept.
 */

/** The payload type our offers use (any dynamic one works; 111 as browsers do). */
export const OPUS_PAYLOAD_TYPE = 111;
export const OPUS_RATE = 48000;
/** Bitrate without maxaveragebitrate: good wideband and fullband speech. */
export const DEFAULT_BITRATE = 32000;
/** Largest Opus packet (RFC 6716 §3.4 R2: 1275 bytes per frame). */
const MAX_PAYLOAD = 1275;
/** Longest Opus packet duration (120 ms) in 48 kHz samples: the decode bound. */
const MAX_DECODED = 5760;

const LITTLE_ENDIAN = endianness() === 'LE';

/** What our fmtp says (our receive side): see the note on decoding. */
export const OPUS_LOCAL_FMTP = 'maxplaybackrate=48000;stereo=0;useinbandfec=0;usedtx=0';

// opus_defines.h
const OPUS_SET_APPLICATION = 4000;
const OPUS_APPLICATION_VOIP = 2048;
const OPUS_SET_MAX_BANDWIDTH = 4004;
const OPUS_SET_VBR = 4006;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;
const OPUS_SET_DTX = 4016;
const OPUS_BANDWIDTH_NARROWBAND = 1101;
const OPUS_BANDWIDTH_MEDIUMBAND = 1102;
const OPUS_BANDWIDTH_WIDEBAND = 1103;
const OPUS_BANDWIDTH_SUPERWIDEBAND = 1104;
const OPUS_BANDWIDTH_FULLBAND = 1105;
/** Loss the FEC is tuned for when the far end asks for it. */
const FEC_LOSS_PERC = 10;

interface OpusBinding {
	encode(buf: Buffer): Buffer;
	decode(buf: Buffer): Buffer;
	applyEncoderCTL(ctl: number, value: number): void;
	applyDecoderCTL(ctl: number, value: number): void;
	setBitrate(bitrate: number): void;
	getBitrate(): number;
}

type OpusCtor = new (rate: number, channels: number) => OpusBinding;

let Ctor: OpusCtor | undefined;
let loadError: Error | undefined;

function binding(): OpusCtor {
	if (Ctor === undefined && loadError === undefined) {
		try {
			// A native CommonJS addon: loaded on first use, so a build without it
			// still runs every other codec.
			const mod = createRequire(import.meta.url)('@discordjs/opus') as { OpusEncoder: OpusCtor };
			Ctor = mod.OpusEncoder;
		} catch (error) {
			loadError = error as Error;
		}
	}
	if (Ctor === undefined) {
		throw new UnsupportedError(`opus is not available: ${loadError?.message ?? 'no binding'}`);
	}
	return Ctor;
}

/** Whether the Opus binding loads on this machine (SDP should offer opus only then). */
export function opusAvailable(): boolean {
	try {
		binding();
		return true;
	} catch {
		return false;
	}
}

/** The Opus parameters of an fmtp line (RFC 7587 §6.1); absent ones are undefined. */
export interface OpusFmtp {
	useinbandfec?: boolean;
	usedtx?: boolean;
	cbr?: boolean;
	stereo?: boolean;
	maxplaybackrate?: number;
	maxaveragebitrate?: number;
}

/** `a=fmtp` parameters: `key=value` pairs separated by ';' (keys lower-cased). */
export function parseFmtpParams(config: string | undefined): Map<string, string> {
	const out = new Map<string, string>();
	if (!config) {
		return out;
	}
	for (const part of config.split(';')) {
		const eq = part.indexOf('=');
		const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
		if (key !== '') {
			out.set(key, eq < 0 ? '' : part.slice(eq + 1).trim());
		}
	}
	return out;
}

export function parseOpusFmtp(config: string | undefined): OpusFmtp {
	const p = parseFmtpParams(config);
	const out: OpusFmtp = {};
	const flag = (k: string): boolean | undefined => {
		const v = p.get(k);
		return v === undefined ? undefined : v === '1';
	};
	const num = (k: string): number | undefined => {
		const v = p.get(k);
		if (v === undefined || !/^\d+$/.test(v)) {
			return undefined;
		}
		return Number(v);
	};
	const fec = flag('useinbandfec');
	const dtx = flag('usedtx');
	const cbr = flag('cbr');
	const stereo = flag('stereo');
	const rate = num('maxplaybackrate');
	const bitrate = num('maxaveragebitrate');
	if (fec !== undefined) {
		out.useinbandfec = fec;
	}
	if (dtx !== undefined) {
		out.usedtx = dtx;
	}
	if (cbr !== undefined) {
		out.cbr = cbr;
	}
	if (stereo !== undefined) {
		out.stereo = stereo;
	}
	if (rate !== undefined && rate > 0) {
		out.maxplaybackrate = rate;
	}
	if (bitrate !== undefined && bitrate > 0) {
		out.maxaveragebitrate = bitrate;
	}
	return out;
}

function bandwidthFor(maxPlaybackRate: number): number {
	if (maxPlaybackRate <= 8000) {
		return OPUS_BANDWIDTH_NARROWBAND;
	}
	if (maxPlaybackRate <= 12000) {
		return OPUS_BANDWIDTH_MEDIUMBAND;
	}
	if (maxPlaybackRate <= 16000) {
		return OPUS_BANDWIDTH_WIDEBAND;
	}
	if (maxPlaybackRate <= 24000) {
		return OPUS_BANDWIDTH_SUPERWIDEBAND;
	}
	return OPUS_BANDWIDTH_FULLBAND;
}

export class OpusCodec implements AudioCodec {
	readonly name: CodecName = 'opus';
	readonly clockRate = OPUS_RATE;
	readonly sampleRate = OPUS_RATE;
	readonly payloadType = OPUS_PAYLOAD_TYPE;
	/** The far end's fmtp as applied to our encoder. */
	readonly params: Readonly<OpusFmtp>;
	readonly #opus: OpusBinding;
	readonly #dtx: boolean;
	// Scratch: PCM in for encode(), payload in for decode(). The binding takes
	// the length from the Buffer, so each length gets its own view, made once.
	readonly #pcm = new Int16Array(MAX_DECODED);
	readonly #pcmViews: Array<Buffer | undefined> = [];
	readonly #payload = Buffer.alloc(MAX_PAYLOAD * 3);
	readonly #payloadViews: Array<Buffer | undefined> = [];
	#decodeErrors = 0;

	/** `fmtp`: the far end's fmtp config for the opus payload type, if any. */
	constructor(fmtp?: string) {
		const Opus = binding();
		this.#opus = new Opus(OPUS_RATE, 1);
		const params = parseOpusFmtp(fmtp);
		this.params = params;
		const opus = this.#opus;
		opus.applyEncoderCTL(OPUS_SET_APPLICATION, OPUS_APPLICATION_VOIP);
		const bitrate = Math.max(6000, Math.min(params.maxaveragebitrate ?? DEFAULT_BITRATE, DEFAULT_BITRATE * 4, 510000));
		opus.setBitrate(bitrate);
		opus.applyEncoderCTL(OPUS_SET_MAX_BANDWIDTH, bandwidthFor(params.maxplaybackrate ?? OPUS_RATE));
		if (params.cbr === true) {
			opus.applyEncoderCTL(OPUS_SET_VBR, 0);
		}
		if (params.useinbandfec === true) {
			opus.applyEncoderCTL(OPUS_SET_INBAND_FEC, 1);
			opus.applyEncoderCTL(OPUS_SET_PACKET_LOSS_PERC, FEC_LOSS_PERC);
		}
		this.#dtx = params.usedtx === true;
		if (this.#dtx) {
			opus.applyEncoderCTL(OPUS_SET_DTX, 1);
		}
	}

	/** Payloads that did not decode (dropped). */
	get decodeErrors(): number {
		return this.#decodeErrors;
	}

	get bitrate(): number {
		return this.#opus.getBitrate();
	}

	frameSamples(ms: number): number {
		return (ms * 48) | 0;
	}

	decodedSamples(_bytes: number): number {
		// The duration is in the TOC; the bound covers any packet.
		return MAX_DECODED;
	}

	decode(payload: Buffer, off: number, len: number, out: Int16Array, outOff: number): number {
		if (len <= 0 || len > this.#payload.length) {
			this.#decodeErrors++;
			return 0;
		}
		payload.copy(this.#payload, 0, off, off + len);
		let view = this.#payloadViews[len];
		if (view === undefined) {
			view = this.#payload.subarray(0, len);
			this.#payloadViews[len] = view;
		}
		let pcm: Buffer;
		try {
			pcm = this.#opus.decode(view);
		} catch {
			// A corrupt packet: libopus says so, the stream goes on.
			this.#decodeErrors++;
			return 0;
		}
		const n = Math.min(pcm.length >> 1, out.length - outOff);
		// Native-endian int16 out of a byte Buffer, without a typed-array view.
		const hi = LITTLE_ENDIAN ? 1 : 0;
		for (let i = 0, p = 0; i < n; i++, p += 2) {
			out[outOff + i] = ((pcm[p + hi]! << 24) | (pcm[p + 1 - hi]! << 16)) >> 16;
		}
		return n;
	}

	encode(pcm: Int16Array, off: number, n: number, out: Buffer, outOff: number): number {
		if (n <= 0 || n > MAX_DECODED) {
			throw new RangeError(`Opus encode: ${n} samples is not a frame`);
		}
		const scratch = this.#pcm;
		for (let i = 0; i < n; i++) {
			scratch[i] = pcm[off + i]!;
		}
		let view = this.#pcmViews[n];
		if (view === undefined) {
			view = Buffer.from(this.#pcm.buffer, this.#pcm.byteOffset, 2 * n);
			this.#pcmViews[n] = view;
		}
		const coded = this.#opus.encode(view);
		if (this.#dtx && coded.length <= 2) {
			return 0;
		}
		if (outOff + coded.length > out.length) {
			throw new RangeError(`Opus encode: ${coded.length} bytes do not fit`);
		}
		coded.copy(out, outOff);
		return coded.length;
	}
}
