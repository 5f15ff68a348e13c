import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeTelephoneEvent } from '../../../../src/media/codecs/telephone-event.js';
import { InbandDtmfDetector } from '../../../../src/media/dtmf/inband.js';
import { RFC4733_END_TIMEOUT_MS, Rfc4733Digits } from '../../../../src/media/dtmf/rfc4733.js';
import { mix, sine } from '../../../helpers/goertzel.js';

function pkt(event: number, end: boolean, duration: number): Buffer {
	const b = Buffer.alloc(4);
	encodeTelephoneEvent(b, 0, event, end, 10, duration);
	return b;
}

describe('Rfc4733Digits', () => {
	function setup(): { got: Array<[string, number]>; d: Rfc4733Digits } {
		const got: Array<[string, number]> = [];
		return { got, d: new Rfc4733Digits((digit, ms) => got.push([digit, ms])) };
	}

	/** A press as phones send it: updates every 20 ms then three end packets. */
	function press(d: Rfc4733Digits, event: number, ts: number, t0: number, updates = 5): number {
		let t = t0;
		for (let i = 1; i <= updates; i++) {
			d.push(ts, pkt(event, false, i * 160), 0, 4, (t += 20));
		}
		for (let i = 0; i < 3; i++) {
			d.push(ts, pkt(event, true, (updates + 1) * 160), 0, 4, (t += 5));
		}
		return t;
	}

	it('gives one digit per press on its first end packet, with the press length', () => {
		const { got, d } = setup();
		let t = press(d, 5, 1000, 0);
		assert.deepEqual(got, [['5', 120]]);
		t = press(d, 5, 3000, t + 100, 9);
		t = press(d, 11, 5000, t + 100);
		assert.deepEqual(got, [['5', 120], ['5', 200], ['#', 120]]);
		assert.equal(d.active, false);
		d.poll(t + 10_000);
		assert.equal(got.length, 3, 'nothing more on poll');
	});

	it('holds the digit while the key is down (active) and reports lost end packets at the next press or on timeout', () => {
		const { got, d } = setup();
		d.push(100, pkt(1, false, 160), 0, 4, 0);
		d.push(100, pkt(1, false, 320), 0, 4, 20);
		assert.equal(d.active, true);
		assert.deepEqual(got, []);
		// The next press starts: the first one is over.
		d.push(2000, pkt(2, false, 160), 0, 4, 200);
		assert.deepEqual(got, [['1', 40]]);
		d.poll(200 + RFC4733_END_TIMEOUT_MS - 1);
		assert.equal(got.length, 1);
		d.poll(200 + RFC4733_END_TIMEOUT_MS);
		assert.deepEqual(got, [['1', 40], ['2', 20]]);
		// Its end packets arriving after all do not repeat it.
		d.push(2000, pkt(2, true, 800), 0, 4, 600);
		assert.equal(got.length, 2);
	});

	it('counts a press whose start was lost from its end packet alone, and ignores stale, short and non-DTMF packets', () => {
		const { got, d } = setup();
		d.push(500, pkt(9, true, 640), 0, 4, 0);
		d.push(500, pkt(9, true, 640), 0, 4, 5);
		assert.deepEqual(got, [['9', 80]]);
		d.push(400, pkt(3, true, 640), 0, 4, 10); // an older press, late
		d.push(900, pkt(3, false, 160), 0, 3, 10); // short
		d.push(1200, pkt(16, true, 800), 0, 4, 20); // flash
		d.poll(5000);
		assert.deepEqual(got, [['9', 80]]);
	});

	it('joins the segments of a press longer than the 16-bit duration', () => {
		const { got, d } = setup();
		d.push(0, pkt(0, false, 0xff00), 0, 4, 0);
		d.push(0xff00, pkt(0, false, 8000), 0, 4, 100);
		d.push(0xff00, pkt(0, true, 8000), 0, 4, 120);
		assert.deepEqual(got, [['0', Math.round(((0xff00 + 8000) * 1000) / 8000)]]);
	});

	it('reset() forgets a press without reporting it', () => {
		const { got, d } = setup();
		d.push(0, pkt(4, false, 160), 0, 4, 0);
		d.reset();
		d.poll(10_000);
		assert.deepEqual(got, []);
	});
});

describe('InbandDtmfDetector end reports', () => {
	it('reports each tone once when it stops, with its length', () => {
		const ends: Array<[string, number]> = [];
		const det = new InbandDtmfDetector(8000, (d, ms) => ends.push([d, ms]));
		const quiet = new Int16Array(160 * 5);
		const starts: string[] = [];
		for (const [digit, row, col, ms] of [['5', 770, 1336, 120], ['#', 941, 1477, 200]] as const) {
			const tone = mix(sine(row, 8000, ms, 6000), sine(col, 8000, ms, 5000));
			for (const chunk of [tone, quiet]) {
				for (let off = 0; off < chunk.length; off += 160) {
					const d = det.process(chunk, off, 160);
					if (d !== '') {
						starts.push(d);
					}
				}
			}
			assert.equal(det.current, '');
			assert.equal(ends.at(-1)![0], digit);
		}
		assert.deepEqual(starts, ['5', '#']);
		assert.deepEqual(ends, [['5', 120], ['#', 200]]);
	});
});
