import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DtmfDeduplicator, isDtmfDigit, parseSipInfoDtmf, type DtmfEvent } from '../../../../src/media/dtmf/events.js';

describe('parseSipInfoDtmf', () => {
	it('reads application/dtmf-relay', () => {
		assert.deepEqual(parseSipInfoDtmf('application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n'), { digit: '5', durationMs: 160 });
		assert.deepEqual(parseSipInfoDtmf('application/dtmf-relay', 'Signal=#\r\nDuration=250'), { digit: '#', durationMs: 250 });
		assert.deepEqual(parseSipInfoDtmf('application/dtmf-relay', 'Signal=*'), { digit: '*' });
	});

	it('is lenient about case, blanks, line ends, parameters and extra keys', () => {
		assert.deepEqual(parseSipInfoDtmf('Application/DTMF-Relay; charset=utf-8', 'signal = a\nDURATION= 100\n'), {
			digit: 'A',
			durationMs: 100,
		});
		assert.deepEqual(parseSipInfoDtmf(' application/dtmf-relay ', 'Foo=bar\rSignal=0\rDuration=80\r'), { digit: '0', durationMs: 80 });
		// RFC 4733 event codes for * and #.
		assert.deepEqual(parseSipInfoDtmf('application/dtmf-relay', 'Signal=10\r\nDuration=100'), { digit: '*', durationMs: 100 });
		assert.deepEqual(parseSipInfoDtmf('application/dtmf-relay', 'Signal=11'), { digit: '#' });
	});

	it('reads application/dtmf', () => {
		assert.deepEqual(parseSipInfoDtmf('application/dtmf', '7'), { digit: '7' });
		assert.deepEqual(parseSipInfoDtmf('application/dtmf', ' d\r\n'), { digit: 'D' });
		assert.deepEqual(parseSipInfoDtmf('application/dtmf', '11'), { digit: '#' });
		// Some phones send the relay form under this type.
		assert.deepEqual(parseSipInfoDtmf('application/dtmf', 'Signal=3\r\nDuration=120'), { digit: '3', durationMs: 120 });
	});

	it('keeps the digit and drops a malformed duration', () => {
		for (const d of ['abc', '-5', '0', '1.5', '99999999', '']) {
			assert.deepEqual(parseSipInfoDtmf('application/dtmf-relay', `Signal=9\r\nDuration=${d}`), { digit: '9' }, `Duration=${d}`);
		}
	});

	it('returns null for malformed bodies and other content types', () => {
		const bad: Array<[string, string]> = [
			['application/dtmf-relay', ''],
			['application/dtmf-relay', 'Duration=160'],
			['application/dtmf-relay', 'Signal=\r\nDuration=160'],
			['application/dtmf-relay', 'Signal=E'],
			['application/dtmf-relay', 'Signal=16'],
			['application/dtmf-relay', 'Signal=55'],
			['application/dtmf-relay', 'Signal=12345'],
			['application/dtmf-relay', 'Signal=1\r\nSignal=2'],
			['application/dtmf-relay', 'Signal 5'],
			['application/dtmf-relay', `Signal=5\r\n${'x'.repeat(2000)}`],
			['application/dtmf', ''],
			['application/dtmf', '55'],
			['application/dtmf', 'x'],
			['text/plain', 'Signal=5'],
			['application/sdp', 'v=0'],
			['', '5'],
		];
		for (const [type, body] of bad) {
			assert.equal(parseSipInfoDtmf(type, body), null, `${type}: ${JSON.stringify(body.slice(0, 40))}`);
		}
	});

	it('gives values that fit the typed event', () => {
		const parsed = parseSipInfoDtmf('application/dtmf-relay', 'Signal=4\r\nDuration=90');
		assert.ok(parsed !== null);
		const event: DtmfEvent = { digit: parsed.digit, durationMs: parsed.durationMs ?? 0, source: 'info' };
		assert.deepEqual(event, { digit: '4', durationMs: 90, source: 'info' });
		assert.ok(isDtmfDigit(event.digit));
		assert.equal(isDtmfDigit('x'), false);
		assert.equal(isDtmfDigit('12'), false);
		assert.equal(isDtmfDigit('a'), false);
	});
});

describe('DtmfDeduplicator', () => {
	it('suppresses the same digit from a second source within the window', () => {
		const d = new DtmfDeduplicator(500);
		assert.equal(d.accept('5', 'rfc4733', 0), true);
		assert.equal(d.accept('5', 'inband', 60), false);
		assert.equal(d.accept('5', 'inband', 240), false);
		// The next press: RFC 4733 again, its in-band echo again suppressed.
		assert.equal(d.accept('5', 'rfc4733', 700), true);
		assert.equal(d.accept('5', 'inband', 760), false);
	});

	it('keeps repeats from one source and different digits', () => {
		const d = new DtmfDeduplicator(500);
		assert.equal(d.accept('5', 'rfc4733', 0), true);
		assert.equal(d.accept('5', 'rfc4733', 100), true);
		assert.equal(d.accept('6', 'inband', 150), true);
		assert.equal(d.accept('6', 'rfc4733', 160), false);
		assert.equal(d.accept('5', 'inband', 200), true);
	});

	it('lets the other source through after the window', () => {
		const d = new DtmfDeduplicator(300);
		assert.equal(d.accept('1', 'info', 0), true);
		assert.equal(d.accept('1', 'inband', 300), true);
		d.reset();
		assert.equal(d.accept('1', 'rfc4733', 310), true);
	});
});
