import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FramingError, MAX_STREAM_MESSAGE, StreamFramer } from '../../../../src/sip/transport/framing.js';

function sipMessage(body: string, lengthHeader = 'Content-Length'): string {
	return (
		'MESSAGE sip:room@example.com SIP/2.0\r\n' +
		'Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK1\r\n' +
		'Call-ID: framing-1\r\n' +
		'CSeq: 1 MESSAGE\r\n' +
		`${lengthHeader}: ${Buffer.byteLength(body)}\r\n` +
		'\r\n' +
		body
	);
}

function framer() {
	const messages: string[] = [];
	let pings = 0;
	const f = new StreamFramer({ message: (b) => messages.push(b.toString('utf8')), ping: () => pings++ });
	return { f, messages, pings: () => pings };
}

describe('StreamFramer', () => {
	it('joins a message split across three chunks, cutting inside headers and body', () => {
		const { f, messages } = framer();
		const text = sipMessage('hello, world');
		const cuts = [20, text.length - 5];
		f.push(Buffer.from(text.slice(0, cuts[0])));
		f.push(Buffer.from(text.slice(cuts[0], cuts[1])));
		assert.equal(messages.length, 0);
		f.push(Buffer.from(text.slice(cuts[1])));
		assert.deepEqual(messages, [text]);
		assert.equal(f.buffered, 0);
	});

	it('splits two pipelined messages in one chunk and keeps a partial third', () => {
		const { f, messages } = framer();
		const a = sipMessage('first');
		const b = sipMessage('second body', 'l');
		const c = sipMessage('third');
		f.push(Buffer.from(a + b + c.slice(0, 30)));
		assert.deepEqual(messages, [a, b]);
		f.push(Buffer.from(c.slice(30)));
		assert.deepEqual(messages, [a, b, c]);
	});

	it('reads Content-Length case-insensitively and counts body bytes, not characters', () => {
		const { f, messages } = framer();
		const text = sipMessage('grüße', 'content-LENGTH');
		f.push(Buffer.from(text + sipMessage('')));
		assert.equal(messages.length, 2);
		assert.equal(messages[0], text);
	});

	it('skips CRLF keep-alives and reports double-CRLF pings, even split across chunks', () => {
		const { f, messages, pings } = framer();
		f.push(Buffer.from('\r\n\r\n'));
		assert.equal(pings(), 1);
		f.push(Buffer.from('\r\n'));
		f.push(Buffer.from('\r'));
		f.push(Buffer.from('\n' + sipMessage('x') + '\r\n'));
		assert.equal(pings(), 2);
		assert.deepEqual(messages, [sipMessage('x')]);
		assert.equal(pings(), 2, 'a single CRLF after a message is not a ping');
	});

	it('rejects a stream message without Content-Length', () => {
		const { f } = framer();
		const text = 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK2\r\n\r\n';
		assert.throws(() => f.push(Buffer.from(text)), FramingError);
	});

	it('rejects a non-numeric Content-Length', () => {
		const { f } = framer();
		assert.throws(() => f.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 5x\r\n\r\n')), FramingError);
	});

	it('rejects messages over 64 KiB, announced or still without a header end', () => {
		const a = framer();
		assert.throws(() => a.f.push(Buffer.from(sipMessage('').replace('Content-Length: 0', `Content-Length: ${MAX_STREAM_MESSAGE}`))), FramingError);
		const b = framer();
		b.f.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\n'));
		assert.throws(() => b.f.push(Buffer.alloc(MAX_STREAM_MESSAGE, 0x41)), FramingError);
		// Exactly at the limit is fine (the length grows from 1 to 5 digits).
		const c = framer();
		const head = sipMessage('');
		const body = 'x'.repeat(MAX_STREAM_MESSAGE - head.length - 4);
		c.f.push(Buffer.from(sipMessage(body)));
		assert.equal(c.messages.length, 1);
	});
});
