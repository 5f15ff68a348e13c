import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SipParseError } from '../../../../src/common/errors.js';
import { createResponse, getVias, parseMessage, parseNameAddr, parseUri, serializeMessage, type SipHeaders } from '../../../../src/sip/message/index.js';

/**
 * Mutated fixtures (seeded, so a failure replays): the parser must either
 * return a message that survives serialize → parse, or throw SipParseError,
 * and a `partial` must always be answerable with a 400.
 */
const dir = new URL('../../../../../test/fixtures/sip/', import.meta.url);
const fixtures = readdirSync(dir)
	.filter((f) => f.endsWith('.txt'))
	.map((f) => Buffer.from(readFileSync(new URL(f, dir), 'utf8').replace(/\r?\n/g, '\r\n'), 'utf8'));
const ALPHABET = Buffer.from(' \t\r\n:;,<>"\\@[]=/%0aZ\x00?', 'latin1');

function rng(seed: number): () => number {
	let s = seed >>> 0;
	return () => {
		s = (Math.imul(s, 1103515245) + 12345) >>> 0;
		return s / 2 ** 32;
	};
}

function mutate(src: Buffer, rnd: () => number): Buffer {
	let buf = Buffer.from(src);
	const n = 1 + Math.floor(rnd() * 4);
	for (let k = 0; k < n; k++) {
		const op = rnd();
		const p = Math.floor(rnd() * buf.length);
		const ch = ALPHABET[Math.floor(rnd() * ALPHABET.length)]!;
		if (op < 0.4) {
			buf[p] = ch;
		} else if (op < 0.7) {
			buf = Buffer.concat([buf.subarray(0, p), buf.subarray(p + 1 + Math.floor(rnd() * 5))]);
		} else {
			buf = Buffer.concat([buf.subarray(0, p), Buffer.from([ch]), buf.subarray(p)]);
		}
	}
	return buf;
}

function onlyParseErrors(fn: () => unknown, input: Buffer): void {
	try {
		fn();
	} catch (err) {
		assert.ok(err instanceof SipParseError, `${String(err)} for ${JSON.stringify(input.toString('latin1'))}`);
	}
}

const withoutLength = (h: SipHeaders) => h.entries.filter(([n]) => n !== 'content-length');

describe('fuzz', () => {
	it('mutated messages parse or fail with SipParseError, never anything else', () => {
		const rnd = rng(0x5eed);
		let parsed = 0;
		let rejected = 0;
		for (let i = 0; i < 5000; i++) {
			const input = mutate(fixtures[i % fixtures.length]!, rnd);
			let msg;
			try {
				msg = parseMessage(input);
			} catch (err) {
				assert.ok(err instanceof SipParseError, `${String(err)} for ${JSON.stringify(input.toString('latin1'))}`);
				rejected++;
				if (err.partial) {
					serializeMessage(createResponse(err.partial, 400, err.message));
				}
				continue;
			}
			parsed++;
			const m = msg;
			onlyParseErrors(() => getVias(m), input);
			onlyParseErrors(() => parseNameAddr(m.headers.get('from') ?? ''), input);
			onlyParseErrors(() => parseNameAddr(m.headers.get('to') ?? ''), input);
			if (m.kind === 'request') {
				onlyParseErrors(() => parseUri(m.uri), input);
				serializeMessage(createResponse(m, 200, undefined, { toTag: 'fz' }));
			}
			const again = parseMessage(serializeMessage(m));
			assert.deepEqual(withoutLength(again.headers), withoutLength(m.headers));
			assert.deepEqual(again.body, m.body);
		}
		// Both outcomes must actually be exercised.
		assert.ok(parsed > 500 && rejected > 500, `parsed ${parsed}, rejected ${rejected}`);
	});
});
