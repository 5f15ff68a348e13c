/**
 * SIP message framing on stream transports (RFC 3261 §18.3): a message ends
 * after the blank line that closes its headers plus Content-Length bytes of
 * body. Content-Length is mandatory on streams, since nothing else marks where
 * the body ends. CRLFs between messages are keep-alives (§7.5, RFC 5626
 * §3.5.1) and are skipped.
 */
import { ServerError } from '../../common/errors.js';

/** Largest message (headers + body) accepted on a stream. */
export const MAX_STREAM_MESSAGE = 64 * 1024;

/** The stream cannot be framed any more; the connection must be closed. */
export class FramingError extends ServerError {
	constructor(message: string) {
		super('SIP_FRAMING', message);
	}
}

const CR = 0x0d;
const LF = 0x0a;
const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');
// Full or compact (`l`) name, at the start of a header line; the value must be
// all digits so that "Content-Length: 12abc" is rejected rather than guessed.
const CONTENT_LENGTH = /(?:^|\r\n)(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*(?=\r\n|$)/i;

export interface FramerCallbacks {
	message(buf: Buffer): void;
	/** A double-CRLF ping arrived; RFC 5626 answers it with one CRLF. */
	ping?(): void;
}

/**
 * Splits a byte stream into whole SIP messages. Feed it every chunk; it calls
 * back once per complete message (a view, valid for as long as the caller
 * keeps it) and keeps the unfinished rest for the next chunk.
 */
export class StreamFramer {
	readonly #cb: FramerCallbacks;
	#buf: Buffer = Buffer.alloc(0);
	// CRLFs seen since the last message, across chunks, to spot "\r\n\r\n" pings.
	#crlfs = 0;

	constructor(cb: FramerCallbacks) {
		this.#cb = cb;
	}

	/** Bytes held waiting for the rest of a message. */
	get buffered(): number {
		return this.#buf.length;
	}

	/** Throws FramingError when the stream is unusable (too big, no length). */
	push(chunk: Buffer): void {
		const buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
		let off = 0;
		for (;;) {
			while (off + 1 < buf.length && buf[off] === CR && buf[off + 1] === LF) {
				off += 2;
				if (++this.#crlfs === 2) {
					this.#crlfs = 0;
					this.#cb.ping?.();
				}
			}
			if (off >= buf.length || (off + 1 === buf.length && buf[off] === CR)) {
				break;
			}
			const headerEnd = buf.indexOf(HEADER_END, off);
			if (headerEnd < 0) {
				if (buf.length - off > MAX_STREAM_MESSAGE) {
					throw new FramingError('message headers exceed 64 KiB');
				}
				break;
			}
			this.#crlfs = 0;
			const headLen = headerEnd + HEADER_END.length - off;
			const m = CONTENT_LENGTH.exec(buf.toString('latin1', off, headerEnd));
			if (!m) {
				throw new FramingError('missing or invalid Content-Length on a stream transport');
			}
			const total = headLen + Number(m[1]);
			if (total > MAX_STREAM_MESSAGE) {
				throw new FramingError('message exceeds 64 KiB');
			}
			if (buf.length - off < total) {
				break;
			}
			const msg = buf.subarray(off, off + total);
			off += total;
			this.#cb.message(msg);
		}
		// Copy the remainder so a small tail does not pin a large chunk.
		this.#buf = off >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(off));
	}
}
