import * as sdpTransform from 'sdp-transform';
import { SipError } from '../../common/errors.js';

/**
 * SDP offer/answer (RFC 3264) for one audio stream, on top of sdp-transform.
 * We answer with the first codec of the offer that we support (the offerer's
 * preference wins) and telephone-event if offered, at the chosen codec's RTP
 * clock rate (RFC 4733 §2.1: telephone-event/48000 with opus), else at 8000.
 *
 * Codecs: PCMU, PCMA, G722/8000 (static PT 9; 16 kHz audio, RFC 3551's 8000
 * clock), opus/48000/2 (RFC 7587), L16/8000 and L16/16000 (mono). Our offers
 * list opus, G722, PCMU, PCMA and telephone-event at 8000 and 48000.
 */
export type CodecName = 'PCMU' | 'PCMA' | 'G722' | 'opus' | 'L16';

export interface CodecSpec {
	/** Canonical encoding name, written as such in our rtpmaps. */
	name: CodecName;
	/** RTP clock rate of the rtpmap. */
	clockRate: number;
	/** rtpmap encoding parameters: opus is always `/2` in SDP (RFC 7587 §7), even for mono. */
	channels?: number;
	/** Static payload type (RFC 3551), or the dynamic one our own offers use. */
	payloadType: number;
	/** Whether payloadType is static (an offer may then omit the rtpmap). */
	static: boolean;
	/** Our fmtp for it: what we receive (the far end's fmtp goes to RemoteMedia.fmtp). */
	fmtp?: string;
}

/**
 * Opus parameters of our receive side, in offers and answers. useinbandfec=0:
 * our decoder (the @discordjs/opus binding) cannot decode FEC data, so the far
 * end should spend no bits on it; usedtx=0: we prefer a continuous stream.
 * The far end's own fmtp sets our encoder (FEC, DTX, bandwidth, bitrate).
 */
export const OPUS_FMTP = 'maxplaybackrate=48000;stereo=0;useinbandfec=0;usedtx=0';

/** Codecs this build can carry. */
export const SUPPORTED_CODECS: readonly CodecSpec[] = [
	{ name: 'opus', clockRate: 48000, channels: 2, payloadType: 111, static: false, fmtp: OPUS_FMTP },
	{ name: 'G722', clockRate: 8000, payloadType: 9, static: true },
	{ name: 'PCMU', clockRate: 8000, payloadType: 0, static: true },
	{ name: 'PCMA', clockRate: 8000, payloadType: 8, static: true },
	{ name: 'L16', clockRate: 16000, payloadType: 97, static: false },
	{ name: 'L16', clockRate: 8000, payloadType: 98, static: false },
];

/** What our offers list, in our preference order. */
export const OFFER_CODECS: readonly CodecName[] = ['opus', 'G722', 'PCMU', 'PCMA'];

const ALL_CODECS: readonly CodecName[] = ['PCMU', 'PCMA', 'G722', 'opus', 'L16'];

const STATIC_PT: Record<number, { name: string; rate: number; channels?: number }> = {
	0: { name: 'PCMU', rate: 8000 },
	8: { name: 'PCMA', rate: 8000 },
	9: { name: 'G722', rate: 8000 },
	// L16/44100 (PTs 10, 11) is a rate we do not carry.
	10: { name: 'L16', rate: 44100, channels: 2 },
	11: { name: 'L16', rate: 44100 },
};

/**
 * RFC 3264 §5.1 stream direction, always from the point of view of the side
 * that wrote the SDP: `sendonly` in a far end's offer means it will send and
 * not receive (a hold), so our answer is `recvonly`.
 */
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

const DIRECTIONS: readonly Direction[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

/** Whether the writer of an SDP with this direction sends media. */
export function directionSends(d: Direction): boolean {
	return d === 'sendrecv' || d === 'sendonly';
}

/** Whether the writer of an SDP with this direction receives media. */
export function directionReceives(d: Direction): boolean {
	return d === 'sendrecv' || d === 'recvonly';
}

function directionFrom(sends: boolean, receives: boolean): Direction {
	if (sends) {
		return receives ? 'sendrecv' : 'sendonly';
	}
	return receives ? 'recvonly' : 'inactive';
}

/**
 * The direction of an answer (RFC 3264 §6.1): we send only if we want to and
 * the offerer receives; we receive only if we want to and the offerer sends.
 * So sendonly → recvonly, recvonly → sendonly, inactive → inactive, and our
 * own hold (`ours` = sendonly or inactive) narrows it further.
 */
export function answerDirection(offered: Direction, ours: Direction = 'sendrecv'): Direction {
	return directionFrom(directionSends(ours) && directionReceives(offered), directionReceives(ours) && directionSends(offered));
}

/** What an SDP says about the far end's audio stream. */
export interface RemoteMedia {
	address: string;
	port: number;
	codec: CodecName;
	payloadType: number;
	clockRate: number;
	/** rtpmap channels when given (opus: 2). */
	channels?: number;
	/** The far end's fmtp config for payloadType (e.g. `useinbandfec=1;usedtx=1`). */
	fmtp?: string;
	/** RFC 4733 payload type, when the far end offered/accepted telephone-event. */
	telephoneEventPt?: number;
	/** Clock rate of telephoneEventPt: the codec's clock when offered so, else 8000. */
	telephoneEventClockRate?: number;
	ptime?: number;
	/**
	 * The far end's direction (media level, else session level, else
	 * sendrecv). The pre-RFC 3264 hold form, c=0.0.0.0 (RFC 2543), means
	 * "do not send to me" and is folded in here: sendrecv becomes sendonly,
	 * recvonly becomes inactive. `address` then stays 0.0.0.0: nothing is sent.
	 */
	direction: Direction;
}

export interface LocalMedia {
	address: string;
	port: number;
	/** Session version counter for o= (bumped on every new offer/answer). */
	sessionId: number;
	sessionVersion: number;
	/**
	 * What we want (default sendrecv): written as is in our offers; in answers
	 * it is combined with the offer's direction by answerDirection().
	 */
	direction?: Direction;
}

/** telephone-event payload types of our offers, per clock rate. */
const TE_PTS: ReadonlyMap<number, number> = new Map([
	[8000, 101],
	[16000, 109],
	[48000, 110],
]);

function parse(sdp: string): sdpTransform.SessionDescription {
	try {
		return sdpTransform.parse(sdp);
	} catch {
		throw new SipError(400, 'Bad Request', 'SDP could not be parsed');
	}
}

function audioIndex(desc: sdpTransform.SessionDescription): number {
	return desc.media.findIndex((m) => m.type === 'audio' && m.port > 0 && /^RTP\/AVP$/i.test(m.protocol));
}

function connectionAddress(desc: sdpTransform.SessionDescription, m: sdpTransform.MediaDescription): string | undefined {
	return m.connection?.ip ?? desc.connection?.ip;
}

function isDirection(d: unknown): d is Direction {
	return typeof d === 'string' && (DIRECTIONS as readonly string[]).includes(d);
}

/** True for the RFC 2543 hold address: c=IN IP4 0.0.0.0 (or IPv6 ::). */
function isHoldAddress(address: string): boolean {
	return address === '0.0.0.0' || /^[0:]+$/.test(address);
}

function directionOf(desc: sdpTransform.SessionDescription, m: sdpTransform.MediaDescription, address: string): Direction {
	const stated = isDirection(m.direction) ? m.direction : isDirection(desc.direction) ? desc.direction : 'sendrecv';
	if (isHoldAddress(address)) {
		return directionFrom(directionSends(stated), false);
	}
	return stated;
}

/** Payload types listed on the m= line, in the offerer's order. */
function payloadList(m: sdpTransform.MediaDescription): number[] {
	return String(m.payloads ?? '')
		.trim()
		.split(/\s+/)
		.filter((p) => p.length > 0)
		.map(Number)
		.filter((n) => Number.isInteger(n) && n >= 0 && n <= 127);
}

interface Rtpmap {
	name: string;
	rate: number;
	channels?: number;
}

function rtpmapFor(m: sdpTransform.MediaDescription, pt: number): Rtpmap | undefined {
	const r = m.rtp.find((x) => x.payload === pt);
	if (r) {
		const map: Rtpmap = { name: r.codec, rate: r.rate ?? 8000 };
		const ch = Number(r.encoding);
		if (r.encoding !== undefined && Number.isInteger(ch) && ch > 0) {
			map.channels = ch;
		}
		return map;
	}
	return STATIC_PT[pt];
}

/** Our spec for an rtpmap, or undefined. Opus is matched whatever its channel count; the others must be mono. */
function specFor(map: Rtpmap): CodecSpec | undefined {
	const name = map.name.toLowerCase();
	return SUPPORTED_CODECS.find(
		(c) => c.name.toLowerCase() === name && c.clockRate === map.rate && (c.name === 'opus' || map.channels === undefined || map.channels === 1),
	);
}

/**
 * Picks what we will use from a remote description (an offer, or an answer
 * to our offer). Throws SipError 488 when no supported codec is present.
 */
export function selectRemoteMedia(sdp: string, allowed: readonly CodecName[] = ALL_CODECS): RemoteMedia {
	const desc = parse(sdp);
	const idx = audioIndex(desc);
	if (idx < 0) {
		throw new SipError(488, 'Not Acceptable Here', 'no RTP/AVP audio stream in SDP');
	}
	const m = desc.media[idx]!;
	const address = connectionAddress(desc, m);
	if (!address) {
		throw new SipError(400, 'Bad Request', 'SDP has no connection address');
	}
	let chosen: { pt: number; spec: CodecSpec; map: Rtpmap } | undefined;
	const tes: Array<{ pt: number; rate: number }> = [];
	for (const pt of payloadList(m)) {
		const map = rtpmapFor(m, pt);
		if (!map) {
			continue;
		}
		if (map.name.toLowerCase() === 'telephone-event') {
			tes.push({ pt, rate: map.rate });
			continue;
		}
		const spec = specFor(map);
		if (spec && allowed.includes(spec.name) && !chosen) {
			chosen = { pt, spec, map };
		}
	}
	if (!chosen) {
		throw new SipError(488, 'Not Acceptable Here', 'no common codec');
	}
	const media: RemoteMedia = {
		address,
		port: m.port,
		codec: chosen.spec.name,
		payloadType: chosen.pt,
		clockRate: chosen.spec.clockRate,
		direction: directionOf(desc, m, address),
	};
	if (chosen.map.channels !== undefined) {
		media.channels = chosen.map.channels;
	}
	const fmtp = m.fmtp?.find((f) => f.payload === chosen.pt)?.config;
	if (fmtp !== undefined && fmtp.trim() !== '') {
		media.fmtp = fmtp.trim();
	}
	// The codec's own clock (RFC 4733 §2.1), else the classic 8000.
	const te = tes.find((t) => t.rate === chosen.spec.clockRate) ?? tes.find((t) => t.rate === 8000);
	if (te !== undefined) {
		media.telephoneEventPt = te.pt;
		media.telephoneEventClockRate = te.rate;
	}
	const ptime = m.ptime ?? desc.media[idx]?.ptime;
	if (ptime) {
		media.ptime = ptime;
	}
	return media;
}

function origin(local: LocalMedia): sdpTransform.SessionDescription['origin'] {
	return {
		username: 'confsrv',
		sessionId: local.sessionId,
		sessionVersion: local.sessionVersion,
		netType: 'IN',
		ipVer: local.address.includes(':') ? 6 : 4,
		address: local.address,
	};
}

/**
 * Builds our answer to `offerSdp` for the chosen media. Non-audio and extra
 * m-lines are rejected with port 0, as RFC 3264 §6 requires (same count).
 * Its direction is answerDirection(chosen.direction, local.direction).
 */
export function buildAnswer(offerSdp: string, chosen: RemoteMedia, local: LocalMedia): string {
	const offer = parse(offerSdp);
	const idx = audioIndex(offer);
	const media: sdpTransform.MediaDescription[] = offer.media.map((m, i) => {
		if (i !== idx) {
			return { type: m.type, port: 0, protocol: m.protocol, payloads: String(m.payloads ?? '0').split(' ')[0] ?? '0', rtp: [], fmtp: [] };
		}
		const pts = [chosen.payloadType];
		const spec = SUPPORTED_CODECS.find((c) => c.name === chosen.codec && c.clockRate === chosen.clockRate);
		const rtp: sdpTransform.MediaAttributes['rtp'] = [rtpmapOf(chosen.payloadType, chosen.codec, chosen.clockRate, spec?.channels)];
		const fmtp: sdpTransform.MediaAttributes['fmtp'] = [];
		if (spec?.fmtp !== undefined) {
			fmtp.push({ payload: chosen.payloadType, config: spec.fmtp });
		}
		if (chosen.telephoneEventPt !== undefined) {
			pts.push(chosen.telephoneEventPt);
			rtp.push({ payload: chosen.telephoneEventPt, codec: 'telephone-event', rate: chosen.telephoneEventClockRate ?? 8000 });
			fmtp.push({ payload: chosen.telephoneEventPt, config: '0-16' });
		}
		return {
			type: 'audio',
			port: local.port,
			protocol: 'RTP/AVP',
			payloads: pts.join(' '),
			rtp,
			fmtp,
			ptime: 20,
			direction: answerDirection(chosen.direction, local.direction),
		};
	});
	return sdpTransform.write({
		version: 0,
		origin: origin(local),
		name: 'confsrv',
		connection: { version: local.address.includes(':') ? 6 : 4, ip: local.address },
		timing: { start: 0, stop: 0 },
		media,
	});
}

function rtpmapOf(payload: number, codec: string, rate: number, channels: number | undefined): sdpTransform.MediaAttributes['rtp'][number] {
	const r: sdpTransform.MediaAttributes['rtp'][number] = { payload, codec, rate };
	if (channels !== undefined) {
		r.encoding = channels;
	}
	return r;
}

/**
 * Our own offer (INVITE without SDP, or calls we place): `codecs` in that
 * order (L16 stands for L16/16000 and L16/8000), then telephone-event at 8000
 * and, with opus, at 48000. Direction: local.direction (default sendrecv;
 * sendonly puts the far end on hold, inactive stops both ways).
 */
export function buildOffer(local: LocalMedia, codecs: readonly CodecName[] = OFFER_CODECS): string {
	const specs = codecs.flatMap((n) => SUPPORTED_CODECS.filter((c) => c.name === n));
	if (specs.length === 0) {
		throw new TypeError('an offer needs at least one codec');
	}
	const pts = specs.map((c) => c.payloadType);
	const rtp: sdpTransform.MediaAttributes['rtp'] = specs.map((c) => rtpmapOf(c.payloadType, c.name, c.clockRate, c.channels));
	const fmtp: sdpTransform.MediaAttributes['fmtp'] = [];
	for (const c of specs) {
		if (c.fmtp !== undefined) {
			fmtp.push({ payload: c.payloadType, config: c.fmtp });
		}
	}
	const teRates = [...new Set(specs.map((c) => c.clockRate))].filter((r) => TE_PTS.has(r)).sort((a, b) => a - b);
	for (const rate of teRates) {
		const pt = TE_PTS.get(rate)!;
		pts.push(pt);
		rtp.push({ payload: pt, codec: 'telephone-event', rate });
		fmtp.push({ payload: pt, config: '0-16' });
	}
	return sdpTransform.write({
		version: 0,
		origin: origin(local),
		name: 'confsrv',
		connection: { version: local.address.includes(':') ? 6 : 4, ip: local.address },
		timing: { start: 0, stop: 0 },
		media: [
			{
				type: 'audio',
				port: local.port,
				protocol: 'RTP/AVP',
				payloads: pts.join(' '),
				rtp,
				fmtp,
				ptime: 20,
				direction: local.direction ?? 'sendrecv',
			},
		],
	});
}
