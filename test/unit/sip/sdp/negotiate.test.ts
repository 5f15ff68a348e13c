import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as sdpTransform from 'sdp-transform';

import { SipError } from '../../../../src/common/errors.js';
import { OPUS_FMTP, answerDirection, buildAnswer, buildOffer, selectRemoteMedia, type Direction, type LocalMedia } from '../../../../src/sip/sdp/index.js';

const LOCAL: LocalMedia = { address: '10.0.0.1', port: 30000, sessionId: 42, sessionVersion: 1 };

/** An offer with these m= payload types and attribute lines. */
function offer(pts: string, attrs: string[] = []): string {
	return [
		'v=0',
		'o=- 1 1 IN IP4 192.0.2.7',
		's=-',
		'c=IN IP4 192.0.2.7',
		't=0 0',
		`m=audio 4000 RTP/AVP ${pts}`,
		...attrs,
		'a=sendrecv',
		'',
	].join('\r\n');
}

function audioOf(sdp: string): sdpTransform.MediaDescription {
	const m = sdpTransform.parse(sdp).media[0];
	assert.ok(m);
	return m;
}

describe('SDP codec negotiation', () => {
	it('chooses G722 when it is the offer\'s first codec we support (static PT 9, no rtpmap needed)', () => {
		const sdp = offer('18 9 0 101', ['a=rtpmap:18 G729/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15']);
		const r = selectRemoteMedia(sdp);
		assert.equal(r.codec, 'G722');
		assert.equal(r.payloadType, 9);
		assert.equal(r.clockRate, 8000);
		assert.equal(r.telephoneEventPt, 101);
		assert.equal(r.telephoneEventClockRate, 8000);
		const m = audioOf(buildAnswer(sdp, r, LOCAL));
		assert.equal(m.payloads, '9 101');
		assert.deepEqual(
			m.rtp.map((x) => [x.payload, x.codec, x.rate]),
			[
				[9, 'G722', 8000],
				[101, 'telephone-event', 8000],
			],
		);
	});

	it('keeps the offerer\'s preference: PCMU first wins over G722', () => {
		const r = selectRemoteMedia(offer('0 9', ['a=rtpmap:9 G722/8000']));
		assert.equal(r.codec, 'PCMU');
	});

	it('chooses opus with its dynamic PT and fmtp, and answers with our own fmtp', () => {
		const sdp = offer('96 9 0 8 97 98', [
			'a=rtpmap:96 opus/48000/2',
			'a=fmtp:96 minptime=10;useinbandfec=1;usedtx=1;maxplaybackrate=24000',
			'a=rtpmap:97 telephone-event/48000',
			'a=rtpmap:98 telephone-event/8000',
			'a=fmtp:97 0-16',
		]);
		const r = selectRemoteMedia(sdp);
		assert.equal(r.codec, 'opus');
		assert.equal(r.payloadType, 96);
		assert.equal(r.clockRate, 48000);
		assert.equal(r.channels, 2);
		assert.equal(r.fmtp, 'minptime=10;useinbandfec=1;usedtx=1;maxplaybackrate=24000');
		// telephone-event at the codec's clock (RFC 4733 §2.1), not the 8000 one.
		assert.equal(r.telephoneEventPt, 97);
		assert.equal(r.telephoneEventClockRate, 48000);
		const answer = buildAnswer(sdp, r, LOCAL);
		assert.match(answer, /a=rtpmap:96 opus\/48000\/2\r\n/);
		assert.match(answer, /a=rtpmap:97 telephone-event\/48000\r\n/);
		const m = audioOf(answer);
		assert.equal(m.payloads, '96 97');
		assert.deepEqual(m.fmtp, [
			{ payload: 96, config: OPUS_FMTP },
			{ payload: 97, config: '0-16' },
		]);
		assert.match(OPUS_FMTP, /useinbandfec=/);
		assert.match(OPUS_FMTP, /usedtx=/);
		assert.match(OPUS_FMTP, /maxplaybackrate=48000/);
	});

	it('takes telephone-event/8000 with opus when that is all that is offered', () => {
		const r = selectRemoteMedia(offer('111 101', ['a=rtpmap:111 opus/48000/2', 'a=rtpmap:101 telephone-event/8000']));
		assert.equal(r.codec, 'opus');
		assert.equal(r.fmtp, undefined);
		assert.equal(r.telephoneEventPt, 101);
		assert.equal(r.telephoneEventClockRate, 8000);
	});

	it('with G.711 picks telephone-event/8000 even when /48000 comes first', () => {
		const r = selectRemoteMedia(offer('0 110 101', ['a=rtpmap:110 telephone-event/48000', 'a=rtpmap:101 telephone-event/8000']));
		assert.equal(r.codec, 'PCMU');
		assert.equal(r.telephoneEventPt, 101);
	});

	it('supports L16/16000 and L16/8000 (mono, dynamic PT), not L16/44100 or stereo', () => {
		const sdp = offer('10 11 120 121 122', ['a=rtpmap:120 L16/16000/2', 'a=rtpmap:121 L16/16000', 'a=rtpmap:122 L16/8000']);
		const r = selectRemoteMedia(sdp);
		assert.equal(r.codec, 'L16');
		assert.equal(r.payloadType, 121);
		assert.equal(r.clockRate, 16000);
		assert.match(buildAnswer(sdp, r, LOCAL), /a=rtpmap:121 L16\/16000\r\n/);
		assert.equal(selectRemoteMedia(offer('122 0', ['a=rtpmap:122 L16/8000'])).clockRate, 8000);
	});

	it('answers 488 when nothing matches', () => {
		const bad = [
			offer('18 3', ['a=rtpmap:18 G729/8000']),
			offer('96 101', ['a=rtpmap:96 opus/16000/2', 'a=rtpmap:101 telephone-event/8000']),
			offer('96', ['a=rtpmap:96 G722/16000']),
			offer('11'),
			offer('101', ['a=rtpmap:101 telephone-event/8000']),
		];
		for (const sdp of bad) {
			assert.throws(
				() => selectRemoteMedia(sdp),
				(e: unknown) => e instanceof SipError && e.status === 488,
			);
		}
		// `allowed` narrows the choice, down to nothing.
		const g722only = offer('9 0');
		assert.equal(selectRemoteMedia(g722only, ['PCMU']).codec, 'PCMU');
		assert.throws(() => selectRemoteMedia(offer('111', ['a=rtpmap:111 opus/48000/2']), ['PCMU', 'G722']), { status: 488 });
	});

	it('offers opus, G722, PCMU, PCMA and telephone-event at 8000 and 48000', () => {
		const sdp = buildOffer(LOCAL);
		const m = audioOf(sdp);
		assert.equal(m.payloads, '111 9 0 8 101 110');
		assert.deepEqual(
			m.rtp.map((x) => `${x.payload} ${x.codec}/${x.rate}${x.encoding !== undefined ? `/${x.encoding}` : ''}`),
			['111 opus/48000/2', '9 G722/8000', '0 PCMU/8000', '8 PCMA/8000', '101 telephone-event/8000', '110 telephone-event/48000'],
		);
		assert.deepEqual(m.fmtp, [
			{ payload: 111, config: OPUS_FMTP },
			{ payload: 101, config: '0-16' },
			{ payload: 110, config: '0-16' },
		]);
		// Our own offer read back as a far end's: opus first, te at 48000.
		const r = selectRemoteMedia(sdp);
		assert.equal(r.codec, 'opus');
		assert.equal(r.telephoneEventPt, 110);
		// A narrower offer.
		assert.equal(audioOf(buildOffer(LOCAL, ['PCMA', 'L16'])).payloads, '8 97 98 101 109');
	});

	it('reads an answer to our offer (the far end\'s PTs and fmtp)', () => {
		const answer = offer('111 110', ['a=rtpmap:111 opus/48000/2', 'a=fmtp:111 useinbandfec=1', 'a=rtpmap:110 telephone-event/48000']);
		const r = selectRemoteMedia(answer);
		assert.equal(r.codec, 'opus');
		assert.equal(r.fmtp, 'useinbandfec=1');
		assert.equal(r.telephoneEventClockRate, 48000);
	});
});

/** An offer with session-level lines `session`, c= address `c` and media-level lines `media`. */
function offerWith(opts: { c?: string; session?: string[]; media?: string[]; mediaC?: string }): string {
	return [
		'v=0',
		'o=- 1 1 IN IP4 192.0.2.7',
		's=-',
		`c=IN IP4 ${opts.c ?? '192.0.2.7'}`,
		't=0 0',
		...(opts.session ?? []),
		'm=audio 4000 RTP/AVP 0',
		...(opts.mediaC !== undefined ? [`c=IN IP4 ${opts.mediaC}`] : []),
		...(opts.media ?? []),
		'',
	].join('\r\n');
}

describe('SDP direction (RFC 3264 §5.1, §6.1, §8.4)', () => {
	it('reads the direction at media level, else session level, else sendrecv', () => {
		for (const d of ['sendrecv', 'sendonly', 'recvonly', 'inactive'] as const) {
			assert.equal(selectRemoteMedia(offerWith({ media: [`a=${d}`] })).direction, d, `media ${d}`);
			assert.equal(selectRemoteMedia(offerWith({ session: [`a=${d}`] })).direction, d, `session ${d}`);
		}
		assert.equal(selectRemoteMedia(offerWith({})).direction, 'sendrecv');
		// Media level overrides session level.
		assert.equal(selectRemoteMedia(offerWith({ session: ['a=inactive'], media: ['a=sendrecv'] })).direction, 'sendrecv');
		assert.equal(selectRemoteMedia(offerWith({ session: ['a=sendonly'], media: ['a=recvonly'] })).direction, 'recvonly');
	});

	it('folds the old c=0.0.0.0 hold form into the direction (the far end does not receive)', () => {
		assert.equal(selectRemoteMedia(offerWith({ c: '0.0.0.0' })).direction, 'sendonly');
		assert.equal(selectRemoteMedia(offerWith({ c: '0.0.0.0', media: ['a=sendrecv'] })).direction, 'sendonly');
		assert.equal(selectRemoteMedia(offerWith({ c: '0.0.0.0', media: ['a=recvonly'] })).direction, 'inactive');
		assert.equal(selectRemoteMedia(offerWith({ c: '0.0.0.0', media: ['a=inactive'] })).direction, 'inactive');
		// Media-level c= wins over the session's.
		assert.equal(selectRemoteMedia(offerWith({ c: '192.0.2.7', mediaC: '0.0.0.0' })).direction, 'sendonly');
		assert.equal(selectRemoteMedia(offerWith({ c: '0.0.0.0', mediaC: '192.0.2.8' })).direction, 'sendrecv');
		const r = selectRemoteMedia(offerWith({ c: '0.0.0.0' }));
		assert.equal(r.address, '0.0.0.0');
		assert.equal(audioOf(buildAnswer(offerWith({ c: '0.0.0.0' }), r, LOCAL)).direction, 'recvonly');
	});

	it('answers with the mirrored direction, narrowed by ours', () => {
		const table: Array<[offered: Direction, ours: Direction, answer: Direction]> = [
			['sendrecv', 'sendrecv', 'sendrecv'],
			['sendonly', 'sendrecv', 'recvonly'],
			['recvonly', 'sendrecv', 'sendonly'],
			['inactive', 'sendrecv', 'inactive'],
			['sendrecv', 'sendonly', 'sendonly'],
			['sendrecv', 'recvonly', 'recvonly'],
			['sendrecv', 'inactive', 'inactive'],
			['sendonly', 'sendonly', 'inactive'],
			['recvonly', 'recvonly', 'inactive'],
			['sendonly', 'recvonly', 'recvonly'],
			['recvonly', 'sendonly', 'sendonly'],
		];
		for (const [offered, ours, expected] of table) {
			assert.equal(answerDirection(offered, ours), expected, `${offered} answered by ${ours}`);
			const sdp = offerWith({ media: [`a=${offered}`] });
			const answer = buildAnswer(sdp, selectRemoteMedia(sdp), { ...LOCAL, direction: ours });
			assert.equal(audioOf(answer).direction, expected, `SDP ${offered} answered by ${ours}`);
			// And read back, as the far end would.
			assert.equal(selectRemoteMedia(answer).direction, expected);
		}
		assert.equal(answerDirection('sendonly'), 'recvonly');
	});

	it('writes our direction into offers (default sendrecv)', () => {
		assert.equal(audioOf(buildOffer(LOCAL)).direction, 'sendrecv');
		for (const d of ['sendrecv', 'sendonly', 'recvonly', 'inactive'] as const) {
			const sdp = buildOffer({ ...LOCAL, direction: d });
			assert.equal(audioOf(sdp).direction, d);
			assert.equal(selectRemoteMedia(sdp).direction, d);
			assert.equal((sdp.match(/^a=(sendrecv|sendonly|recvonly|inactive)\r$/gm) ?? []).length, 1);
		}
	});
});
