/**
 * RTP fixed header (RFC 3550 §5.1), read and written in place on a Buffer so
 * the packet path allocates nothing (mediasoup's RtpPacket.hpp, not werift's
 * per-packet class).
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                           timestamp                           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                             SSRC                              |
 *   +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *   |                  CSRC list (CC × 32 bits)                     |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  extension profile (X=1)      |   extension length (words)    |
 *   |                  extension data ...                           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                  payload ...  | padding ... | padding count   |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The readers assume `buf.length >= RTP_HEADER_SIZE`; call payloadOffset()
 * first, which validates the whole layout.
 */
export const RTP_HEADER_SIZE = 12;

export function readVersion(buf: Buffer): number {
	return buf[0]! >>> 6;
}

export function readPadding(buf: Buffer): boolean {
	return (buf[0]! & 0x20) !== 0;
}

export function readExtension(buf: Buffer): boolean {
	return (buf[0]! & 0x10) !== 0;
}

export function readCsrcCount(buf: Buffer): number {
	return buf[0]! & 0x0f;
}

export function readMarker(buf: Buffer): boolean {
	return (buf[1]! & 0x80) !== 0;
}

export function readPayloadType(buf: Buffer): number {
	return buf[1]! & 0x7f;
}

export function readSeq(buf: Buffer): number {
	return (buf[2]! << 8) | buf[3]!;
}

/** Unsigned 32-bit. */
export function readTimestamp(buf: Buffer): number {
	return buf[4]! * 0x1000000 + ((buf[5]! << 16) | (buf[6]! << 8) | buf[7]!);
}

/** Unsigned 32-bit. */
export function readSsrc(buf: Buffer): number {
	return buf[8]! * 0x1000000 + ((buf[9]! << 16) | (buf[10]! << 8) | buf[11]!);
}

/**
 * Offset of the payload in a packet of `len` bytes, past the CSRC list and the
 * header extension, or -1 when the packet is not a well-formed RTP packet
 * (too short, version ≠ 2, CSRC/extension/padding running past the end).
 */
export function payloadOffset(buf: Buffer, len: number): number {
	if (len < RTP_HEADER_SIZE || len > buf.length) {
		return -1;
	}
	const b0 = buf[0]!;
	if (b0 >>> 6 !== 2) {
		return -1;
	}
	let off = RTP_HEADER_SIZE + (b0 & 0x0f) * 4;
	if ((b0 & 0x10) !== 0) {
		if (off + 4 > len) {
			return -1;
		}
		off += 4 + ((buf[off + 2]! << 8) | buf[off + 3]!) * 4;
	}
	let end = len;
	if ((b0 & 0x20) !== 0) {
		const pad = buf[len - 1]!;
		// RFC 3550: the count includes itself, so 0 is invalid.
		if (pad === 0) {
			return -1;
		}
		end -= pad;
	}
	return off <= end ? off : -1;
}

/**
 * End of the payload (exclusive): `len` minus the padding. Only meaningful
 * after payloadOffset() accepted the packet.
 */
export function payloadEnd(buf: Buffer, len: number): number {
	return (buf[0]! & 0x20) !== 0 ? len - buf[len - 1]! : len;
}

/**
 * Writes a 12-byte header (V=2, no padding, no extension, no CSRC) at the
 * start of `buf` and returns its length. Scalars, not an options object, so
 * the send path allocates nothing.
 */
export function writeHeader(
	buf: Buffer,
	pt: number,
	marker: boolean,
	seq: number,
	ts: number,
	ssrc: number,
): number {
	buf[0] = 0x80;
	buf[1] = (marker ? 0x80 : 0) | (pt & 0x7f);
	buf[2] = (seq >>> 8) & 0xff;
	buf[3] = seq & 0xff;
	buf[4] = (ts >>> 24) & 0xff;
	buf[5] = (ts >>> 16) & 0xff;
	buf[6] = (ts >>> 8) & 0xff;
	buf[7] = ts & 0xff;
	buf[8] = (ssrc >>> 24) & 0xff;
	buf[9] = (ssrc >>> 16) & 0xff;
	buf[10] = (ssrc >>> 8) & 0xff;
	buf[11] = ssrc & 0xff;
	return RTP_HEADER_SIZE;
}

/**
 * RTCP sharing the RTP port (RFC 5761 §4): the second byte of an RTCP packet
 * is its packet type, 200 (SR) … 207 (XR); RTP must avoid payload types
 * 64-95, so a second byte in 192-223 (PT 64-95 with the marker set) is RTCP.
 * The wider range also catches RTPFB/PSFB/XR (205-207), which a 200-204 test
 * would misread as RTP with payload type 77-79.
 */
export function isRtcp(buf: Buffer): boolean {
	if (buf.length < 2) {
		return false;
	}
	const b1 = buf[1]!;
	return b1 >= 192 && b1 <= 223;
}
