import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
	DtmfReceiver,
	dtmfDigit,
	dtmfEvent,
	encodeTelephoneEvent,
	parseTelephoneEvent,
} from '../../../../src/media/codecs/telephone-event.js';

function payload(event: number, end: boolean, duration: number, volume = 10): Buffer {
	const b = Buffer.alloc(4);
	encodeTelephoneEvent(b, 0, event, end, volume, duration);
	return b;
}

/** Feeds one key press as a sender does: updates every 20 ms, then the end packet three times. */
function press(rx: DtmfReceiver, ts: number, event: number, updates: number, out: string[], withStart = true): void {
	const feed = (p: Buffer): void => {
		const d = rx.push(ts, p, 0, p.length);
		if (d !== '') {
			out.push(d);
		}
	};
	if (withStart) {
		for (let i = 1; i <= updates; i++) {
			feed(payload(event, false, i * 160));
		}
	}
	for (let i = 0; i < 3; i++) {
		feed(payload(event, true, (updates + 1) * 160));
	}
}

describe('telephone-event', () => {
	it('encodes and parses the payload', () => {
		const b = Buffer.alloc(6);
		assert.equal(encodeTelephoneEvent(b, 2, 11, true, 63, 0xabcd), 4);
		assert.deepEqual([...b.subarray(2)], [11, 0xbf, 0xab, 0xcd]);
		assert.deepEqual(parseTelephoneEvent(b, 2, 4), { event: 11, end: true, volume: 63, duration: 0xabcd });
		assert.deepEqual(parseTelephoneEvent(payload(5, false, 160, 7), 0, 4), {
			event: 5,
			end: false,
			volume: 7,
			duration: 160,
		});
		assert.equal(parseTelephoneEvent(b, 2, 3), null);
		assert.equal(parseTelephoneEvent(b, 4, 4), null);
	});

	it('maps event codes to digits', () => {
		assert.equal([...Array(16).keys()].map(dtmfDigit).join(''), '0123456789*#ABCD');
		assert.equal(dtmfDigit(16), '');
		assert.equal(dtmfEvent('#'), 11);
		assert.equal(dtmfEvent('d'), 15);
		assert.equal(dtmfEvent('x'), -1);
		assert.equal(dtmfEvent('12'), -1);
	});

	it('gives one digit for 9 updates and 3 end packets', () => {
		const rx = new DtmfReceiver();
		const out: string[] = [];
		press(rx, 1000, 5, 9, out);
		assert.deepEqual(out, ['5']);
	});

	it('gives two digits for the same key pressed twice', () => {
		const rx = new DtmfReceiver();
		const out: string[] = [];
		press(rx, 1000, 1, 5, out);
		press(rx, 1000 + 160 * 20, 1, 5, out);
		press(rx, 1000 + 160 * 40, 11, 5, out);
		assert.deepEqual(out, ['1', '1', '#']);
	});

	it('gives one digit when only the end packets arrive', () => {
		const rx = new DtmfReceiver();
		const out: string[] = [];
		press(rx, 5000, 9, 6, out, false);
		assert.deepEqual(out, ['9']);
		// A later press whose start packets did arrive still counts.
		press(rx, 9000, 9, 6, out);
		assert.deepEqual(out, ['9', '9']);
	});

	it('ignores late packets of an earlier event', () => {
		const rx = new DtmfReceiver();
		const out: string[] = [];
		press(rx, 1000, 2, 3, out);
		press(rx, 4000, 3, 3, out);
		// A straggling end packet of '2' after '3' began.
		assert.equal(rx.push(1000, payload(2, true, 640), 0, 4), '');
		assert.deepEqual(out, ['2', '3']);
	});

	it('follows timestamps across the 32-bit wrap', () => {
		const rx = new DtmfReceiver();
		const out: string[] = [];
		press(rx, 0xffffff00, 4, 3, out);
		press(rx, 0x00000400, 6, 3, out);
		assert.deepEqual(out, ['4', '6']);
	});

	it('does not count the next segment of a very long press as a new digit', () => {
		const rx = new DtmfReceiver();
		const out: string[] = [];
		const feed = (ts: number, p: Buffer): void => {
			const d = rx.push(ts, p, 0, 4);
			if (d !== '') {
				out.push(d);
			}
		};
		feed(100, payload(0, false, 160));
		feed(100, payload(0, false, 0xffff));
		feed(100 + 0xffff, payload(0, false, 160));
		feed(100 + 0xffff, payload(0, true, 800));
		assert.deepEqual(out, ['0']);
	});

	it('ignores short payloads and non-DTMF events, and forgets on reset()', () => {
		const rx = new DtmfReceiver();
		assert.equal(rx.push(1, Buffer.from([5, 0, 0]), 0, 3), '');
		assert.equal(rx.push(2, payload(16, false, 160), 0, 4), '');
		assert.equal(rx.push(3, payload(7, false, 160), 0, 4), '7');
		assert.equal(rx.push(3, payload(7, true, 320), 0, 4), '');
		rx.reset();
		// A new stream may reuse the timestamp.
		assert.equal(rx.push(3, payload(7, false, 160), 0, 4), '7');
	});
});
