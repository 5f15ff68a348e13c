/**
 * Wrap-around arithmetic for RTP sequence numbers (16 bits) and timestamps
 * (32 bits): the shorter way round the circle decides which is newer
 * (RFC 3550 appendix A.1, RFC 1982 serial numbers).
 */

/** a - b as a signed 16-bit distance in [-32768, 32767]. */
export function seqDiff(a: number, b: number): number {
	return ((a - b) << 16) >> 16;
}

/** True when `a` comes after `b` (across the 65535 → 0 wrap). */
export function seqNewer(a: number, b: number): boolean {
	return seqDiff(a, b) > 0;
}

/** a - b as a signed 32-bit distance, for unsigned 32-bit timestamps. */
export function tsDiff(a: number, b: number): number {
	return (a - b) | 0;
}

/** True when timestamp `a` comes after `b` (across the 2^32 wrap). */
export function tsNewer(a: number, b: number): boolean {
	return tsDiff(a, b) > 0;
}

/** (seq + n) mod 2^16. */
export function seqAdd(seq: number, n: number): number {
	return (seq + n) & 0xffff;
}

/** (ts + n) mod 2^32, unsigned. */
export function tsAdd(ts: number, n: number): number {
	return (ts + n) >>> 0;
}
