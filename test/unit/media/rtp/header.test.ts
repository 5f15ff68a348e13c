import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	RTP_HEADER_SIZE,
	isRtcp,
	payloadEnd,
	payloadOffset,
	readCsrcCount,
	readExtension,
	readMarker,
	readPadding,
	readPayloadType,
	readSeq,
	readSsrc,
	readTimestamp,
	readVersion,
	writeHeader,
} from '../../../../src/media/rtp/header.js';
import { seqAdd, seqDiff, seqNewer, tsAdd, tsDiff, tsNewer } from '../../../../src/media/rtp/seq.js';

/** A packet with 2 CSRCs, a one-word extension, a 5-byte payload and 3 bytes of padding. */
function fullPacket(): Buffer {
	return Buffer.from([
		0xb2, 0xe0, 0xff, 0xfe, // V=2 P=1 X=1 CC=2, M=1 PT=96, seq 65534
		0xff, 0xff, 0xff, 0xf0, // ts
		0xde, 0xad, 0xbe, 0xef, // ssrc
		0x00, 0x00, 0x00, 0x01, // csrc 1
		0x00, 0x00, 0x00, 0x02, // csrc 2
		0xbe, 0xde, 0x00, 0x01, // extension: profile, length 1 word
		0x10, 0xaa, 0x00, 0x00, // extension data
		1, 2, 3, 4, 5, // payload
		0, 0, 3, // padding, count 3
	]);
}

describe('rtp header', () => {
	it('round-trips writeHeader through the readers', () => {
		const buf = Buffer.alloc(RTP_HEADER_SIZE + 4);
		for (const [pt, marker, seq, ts, ssrc] of [
			[0, true, 0, 0, 0],
			[8, false, 65535, 0xffffffff, 0xffffffff],
			[101, true, 12345, 0x80000000, 0xdeadbeef],
			[127, false, 1, 160, 1],
		] as const) {
			assert.equal(writeHeader(buf, pt, marker, seq, ts, ssrc), RTP_HEADER_SIZE);
			assert.equal(readVersion(buf), 2);
			assert.equal(readPadding(buf), false);
			assert.equal(readExtension(buf), false);
			assert.equal(readCsrcCount(buf), 0);
			assert.equal(readPayloadType(buf), pt);
			assert.equal(readMarker(buf), marker);
			assert.equal(readSeq(buf), seq);
			assert.equal(readTimestamp(buf), ts);
			assert.equal(readSsrc(buf), ssrc);
			assert.equal(payloadOffset(buf, buf.length), RTP_HEADER_SIZE);
			assert.equal(payloadEnd(buf, buf.length), buf.length);
		}
	});

	it('writes the exact bytes', () => {
		const buf = Buffer.alloc(12);
		writeHeader(buf, 0, true, 0x1234, 0x01020304, 0xa0b0c0d0);
		assert.deepEqual([...buf], [0x80, 0x80, 0x12, 0x34, 1, 2, 3, 4, 0xa0, 0xb0, 0xc0, 0xd0]);
	});

	it('skips CSRCs and the extension and strips padding', () => {
		const p = fullPacket();
		assert.equal(readVersion(p), 2);
		assert.equal(readCsrcCount(p), 2);
		assert.equal(readExtension(p), true);
		assert.equal(readPadding(p), true);
		assert.equal(readMarker(p), true);
		assert.equal(readPayloadType(p), 96);
		assert.equal(readSeq(p), 65534);
		assert.equal(readTimestamp(p), 0xfffffff0);
		assert.equal(readSsrc(p), 0xdeadbeef);
		const off = payloadOffset(p, p.length);
		const end = payloadEnd(p, p.length);
		assert.equal(off, 28);
		assert.deepEqual([...p.subarray(off, end)], [1, 2, 3, 4, 5]);
	});

	it('rejects malformed packets', () => {
		const p = fullPacket();
		assert.equal(payloadOffset(Buffer.alloc(0), 0), -1);
		assert.equal(payloadOffset(p, 11), -1, 'shorter than the fixed header');
		assert.equal(payloadOffset(p, p.length + 1), -1, 'len beyond the buffer');
		const v1 = Buffer.from(p);
		v1[0] = (v1[0]! & 0x3f) | 0x40;
		assert.equal(payloadOffset(v1, v1.length), -1, 'version 1');
		const v0 = Buffer.alloc(12);
		assert.equal(payloadOffset(v0, 12), -1, 'version 0');
		const manyCsrc = Buffer.from(p);
		manyCsrc[0] = (manyCsrc[0]! & 0xf0) | 0x0f;
		assert.equal(payloadOffset(manyCsrc, manyCsrc.length), -1, 'CSRC list past the end');
		const longExt = Buffer.from(p);
		longExt[23] = 9;
		assert.equal(payloadOffset(longExt, longExt.length), -1, 'extension past the end');
		assert.equal(payloadOffset(p, 22), -1, 'extension header cut off');
		const zeroPad = Buffer.from(p);
		zeroPad[zeroPad.length - 1] = 0;
		assert.equal(payloadOffset(zeroPad, zeroPad.length), -1, 'padding count 0');
		const bigPad = Buffer.from(p);
		bigPad[bigPad.length - 1] = 9;
		assert.equal(payloadOffset(bigPad, bigPad.length), -1, 'padding into the header');
		// Exactly empty payload after padding is fine.
		const exact = Buffer.from(p);
		exact[exact.length - 1] = 8;
		assert.equal(payloadOffset(exact, exact.length), 28);
		assert.equal(payloadEnd(exact, exact.length), 28);
	});

	it('tells RTCP from RTP (RFC 5761)', () => {
		const rr = Buffer.from([0x80, 201, 0x00, 0x01, 0, 0, 0, 1]);
		assert.equal(isRtcp(rr), true);
		for (const pt of [200, 202, 203, 204, 205, 206, 207]) {
			rr[1] = pt;
			assert.equal(isRtcp(rr), true, `type ${pt}`);
		}
		const rtp = Buffer.alloc(12);
		for (const [pt, marker] of [[0, true], [8, false], [101, true], [127, true], [96, true], [63, true]] as const) {
			writeHeader(rtp, pt, marker, 1, 1, 1);
			assert.equal(isRtcp(rtp), false, `PT ${pt} M ${marker}`);
		}
		assert.equal(isRtcp(Buffer.from([0x80])), false);
	});
});

describe('rtp sequence math', () => {
	it('orders 16-bit sequence numbers across the wrap', () => {
		assert.equal(seqDiff(0, 65535), 1);
		assert.equal(seqDiff(65535, 0), -1);
		assert.equal(seqDiff(5, 65530), 11);
		assert.equal(seqDiff(100, 90), 10);
		assert.equal(seqDiff(90, 100), -10);
		assert.equal(seqDiff(7, 7), 0);
		assert.equal(seqDiff(32767, 0), 32767);
		assert.equal(seqDiff(32768, 0), -32768);
		assert.equal(seqNewer(0, 65535), true);
		assert.equal(seqNewer(65535, 0), false);
		assert.equal(seqNewer(1000, 1000), false);
		assert.equal(seqAdd(65535, 1), 0);
		assert.equal(seqAdd(65530, 10), 4);
	});

	it('orders 32-bit timestamps across the wrap', () => {
		assert.equal(tsDiff(0, 0xffffffff), 1);
		assert.equal(tsDiff(0xffffffff, 0), -1);
		assert.equal(tsDiff(80, 0xffffff60), 240);
		assert.equal(tsDiff(320, 160), 160);
		assert.equal(tsNewer(100, 0xfffffff0), true);
		assert.equal(tsNewer(0xfffffff0, 100), false);
		assert.equal(tsAdd(0xffffff00, 0x200), 0x100);
		assert.equal(tsAdd(1, 2), 3);
	});
});
