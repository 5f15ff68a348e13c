import * as sdpTransform from 'sdp-transform';
import { SipError } from '../../common/errors.js';

/**
 * SDP offer/answer (RFC 3264) for one audio stream, on top of sdp-transform.
 * We answer with the first codec of the offer that we support (the offerer's
 * preference wins) and telephone-event if offered.
 */
export type CodecName = 'PCMU' | 'PCMA';

export interface CodecSpec {
	name: CodecName;
	clockRate: number;
	/** Static payload type (RFC 3551), used in our own offers. */
	staticPt: number;
}

/** Codecs this build can carry, in our own preference order for offers. */
export const SUPPORTED_CODECS: readonly CodecSpec[] = [
	{ name: 'PCMU', clockRate: 8000, staticPt: 0 },
	{ name: 'PCMA', clockRate: 8000, staticPt: 8 },
];

const STATIC_PT: Record<number, { name: string; rate: number }> = {
	0: { name: 'PCMU', rate: 8000 },
	8: { name: 'PCMA', rate: 8000 },
};

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** What an SDP says about the far end's audio stream. */
export interface RemoteMedia {
	address: string;
	port: number;
	codec: CodecName;
	payloadType: number;
	clockRate: number;
	/** RFC 4733 payload type, when the far end offered/accepted telephone-event. */
	telephoneEventPt?: number;
	ptime?: number;
	direction: Direction;
}

export interface LocalMedia {
	address: string;
	port: number;
	/** Session version counter for o= (bumped on every new offer/answer). */
	sessionId: number;
	sessionVersion: number;
}

const DEFAULT_TE_PT = 101;

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

function directionOf(desc: sdpTransform.SessionDescription, m: sdpTransform.MediaDescription): Direction {
	const d = (m.direction ?? desc.direction ?? 'sendrecv') as Direction;
	return d;
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

function rtpmapFor(m: sdpTransform.MediaDescription, pt: number): { name: string; rate: number } | undefined {
	const r = m.rtp.find((x) => x.payload === pt);
	if (r) {
		return { name: r.codec, rate: r.rate ?? 8000 };
	}
	return STATIC_PT[pt];
}

/**
 * Picks what we will use from a remote description (an offer, or an answer
 * to our offer). Throws SipError 488 when no supported codec is present.
 */
export function selectRemoteMedia(sdp: string, allowed: readonly CodecName[] = SUPPORTED_CODECS.map((c) => c.name)): RemoteMedia {
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
	let chosen: { pt: number; spec: CodecSpec } | undefined;
	let tePt: number | undefined;
	for (const pt of payloadList(m)) {
		const map = rtpmapFor(m, pt);
		if (!map) {
			continue;
		}
		if (map.name.toLowerCase() === 'telephone-event' && map.rate === 8000) {
			tePt ??= pt;
			continue;
		}
		const spec = SUPPORTED_CODECS.find((c) => c.name.toLowerCase() === map.name.toLowerCase() && c.clockRate === map.rate);
		if (spec && allowed.includes(spec.name) && !chosen) {
			chosen = { pt, spec };
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
		direction: directionOf(desc, m),
	};
	if (tePt !== undefined) {
		media.telephoneEventPt = tePt;
	}
	const ptime = m.ptime ?? desc.media[idx]?.ptime;
	if (ptime) {
		media.ptime = ptime;
	}
	return media;
}

function answerDirection(offered: Direction): Direction {
	switch (offered) {
		case 'sendonly': {
			return 'recvonly';
		}
		case 'recvonly': {
			return 'sendonly';
		}
		case 'inactive': {
			return 'inactive';
		}
		default: {
			return 'sendrecv';
		}
	}
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
 */
export function buildAnswer(offerSdp: string, chosen: RemoteMedia, local: LocalMedia): string {
	const offer = parse(offerSdp);
	const idx = audioIndex(offer);
	const media: sdpTransform.MediaDescription[] = offer.media.map((m, i) => {
		if (i !== idx) {
			return { type: m.type, port: 0, protocol: m.protocol, payloads: String(m.payloads ?? '0').split(' ')[0] ?? '0', rtp: [], fmtp: [] };
		}
		const pts = [chosen.payloadType];
		const rtp: sdpTransform.MediaAttributes['rtp'] = [{ payload: chosen.payloadType, codec: chosen.codec, rate: chosen.clockRate }];
		const fmtp: sdpTransform.MediaAttributes['fmtp'] = [];
		if (chosen.telephoneEventPt !== undefined) {
			pts.push(chosen.telephoneEventPt);
			rtp.push({ payload: chosen.telephoneEventPt, codec: 'telephone-event', rate: 8000 });
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
			direction: answerDirection(chosen.direction),
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

/** Our own offer (INVITE without SDP, or calls we place): all supported codecs. */
export function buildOffer(local: LocalMedia, codecs: readonly CodecName[] = SUPPORTED_CODECS.map((c) => c.name)): string {
	const specs = codecs.map((n) => SUPPORTED_CODECS.find((c) => c.name === n)!);
	const pts = specs.map((c) => c.staticPt);
	const rtp: sdpTransform.MediaAttributes['rtp'] = specs.map((c) => ({ payload: c.staticPt, codec: c.name, rate: c.clockRate }));
	pts.push(DEFAULT_TE_PT);
	rtp.push({ payload: DEFAULT_TE_PT, codec: 'telephone-event', rate: 8000 });
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
				fmtp: [{ payload: DEFAULT_TE_PT, config: '0-16' }],
				ptime: 20,
				direction: 'sendrecv',
			},
		],
	});
}
