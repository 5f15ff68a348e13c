import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ManualClock } from '../../../src/common/time.js';
import { KeypadEngine, validateKeys, DEFAULT_KEYS, type KeypadOptions } from '../../../src/transfer/keypad.js';

/** An engine on a manual clock with every event written to a log as 'name:arg'. */
function engine(opts: KeypadOptions = {}): { k: KeypadEngine; clock: ManualClock; log: string[]; type: (s: string) => void } {
	const clock = new ManualClock();
	const k = new KeypadEngine({ clock, digitTimeoutMs: 3000, ...opts });
	const log: string[] = [];
	for (const ev of ['collecting', 'transfer', 'conference', 'adhoc', 'return', 'threeWay', 'cancel', 'forward'] as const) {
		k.on(ev, (...args: unknown[]) => log.push(args.length ? `${ev}:${String(args[0])}` : ev));
	}
	return { k, clock, log, type: (s) => [...s].forEach((d) => k.push(d)) };
}

describe('keypad engine', () => {
	it('# + number + # asks for a transfer; no digit reaches the other party', () => {
		const { k, log, type } = engine();
		type('#205#');
		assert.deepEqual(log, ['collecting:transfer', 'transfer:205']);
		assert.equal(k.timerPending, false);
		assert.equal(k.dialing, false);
	});

	it('the digit timeout ends the target', () => {
		const { k, clock, log, type } = engine();
		type('#2');
		clock.advance(2999);
		type('05');
		clock.advance(2999);
		assert.deepEqual(log, ['collecting:transfer'], 'each digit restarts the timer');
		clock.advance(1);
		assert.deepEqual(log, ['collecting:transfer', 'transfer:205']);
		assert.equal(k.timerPending, false);
		assert.equal(clock.pending, 0);
	});

	it('maxDigits ends the target without a terminator', () => {
		const { log, type } = engine({ maxDigits: 3 });
		type('#1234');
		assert.deepEqual(log, ['collecting:transfer', 'transfer:123', 'forward:4']);
	});

	it('* while dialing, an empty target or a timeout with nothing typed cancel', () => {
		const { clock, log, type } = engine();
		type('#20*');
		type('##');
		type('#');
		clock.advance(3000);
		assert.deepEqual(log, ['collecting:transfer', 'cancel', 'collecting:transfer', 'cancel', 'collecting:transfer', 'cancel']);
	});

	it('ordinary digits pass through at once while talking', () => {
		const { log, type } = engine();
		type('0123456789ABCD');
		assert.deepEqual(
			log,
			[...'0123456789ABCD'].map((d) => `forward:${d}`),
		);
	});

	it('** + room asks for the conference; *3 for the ad hoc conference', () => {
		const { log, type } = engine();
		type('**1000#');
		type('*3');
		assert.deepEqual(log, ['collecting:conference', 'conference:1000', 'adhoc']);
	});

	it('a lone * waits for the digit timeout, then passes through; *5 passes both', () => {
		const { clock, log, type } = engine();
		type('*');
		assert.deepEqual(log, []);
		clock.advance(3000);
		assert.deepEqual(log, ['forward:*']);
		type('*5');
		assert.deepEqual(log, ['forward:*', 'forward:*', 'forward:5']);
		// * then # : the * passes, the # starts a transfer.
		type('*#7#');
		assert.deepEqual(log.slice(3), ['forward:*', 'collecting:transfer', 'transfer:7']);
	});

	it('while B rings, * returns and other digits are swallowed', () => {
		const { k, log, type } = engine();
		k.setMode('ringing');
		type('12#');
		type('*');
		assert.deepEqual(log, ['return']);
	});

	it('while consulting, * returns, # makes the three-way call, other digits go to B', () => {
		const { k, log, type } = engine();
		k.setMode('consulting');
		type('5#*');
		assert.deepEqual(log, ['forward:5', 'threeWay', 'return']);
	});

	it('in the three-way call * returns (drops B) and # passes through', () => {
		const { k, log, type } = engine();
		k.setMode('threeway');
		type('#*');
		assert.deepEqual(log, ['forward:#', 'return']);
	});

	it('off passes everything', () => {
		const { k, log, type } = engine();
		k.setMode('off');
		type('#*3');
		assert.deepEqual(log, ['forward:#', 'forward:*', 'forward:3']);
	});

	it('a mode change drops half-typed keys and stops the timer', () => {
		const { k, clock, log, type } = engine();
		type('#20');
		k.setMode('ringing');
		assert.equal(k.timerPending, false);
		assert.equal(clock.pending, 0);
		k.setMode('talking');
		type('*');
		k.setMode('talking');
		clock.advance(10_000);
		assert.deepEqual(log, ['collecting:transfer']);
	});

	it('configurable keys: longer sequences wait for their last digit', () => {
		const { k, clock, log, type } = engine({ keys: { transfer: '*2', conference: '*7', adhoc: '*3', return: '#', terminator: '*', threeWay: '3' } });
		type('*2205*');
		k.setMode('consulting');
		type('3#');
		k.setMode('talking');
		type('*');
		clock.advance(3000);
		assert.deepEqual(log, ['collecting:transfer', 'transfer:205', 'threeWay', 'return', 'forward:*']);
	});

	it('an exact key that is also a prefix fires on the timeout', () => {
		const { k, clock, log, type } = engine({ keys: { return: '*', threeWay: '**' } });
		k.setMode('consulting');
		type('*');
		assert.deepEqual(log, []);
		clock.advance(3000);
		type('**');
		assert.deepEqual(log, ['return', 'threeWay']);
	});

	it('ignores non-digits and anything after close()', () => {
		const { k, clock, log, type } = engine();
		type('x#1');
		k.close();
		type('2#');
		clock.advance(10_000);
		assert.deepEqual(log, ['collecting:transfer']);
		assert.equal(clock.pending, 0);
	});

	it('refuses key sets that clash within a mode or are not DTMF', () => {
		assert.doesNotThrow(() => validateKeys({ ...DEFAULT_KEYS }));
		assert.throws(() => validateKeys({ ...DEFAULT_KEYS, adhoc: '#' }), /keys.transfer and keys.adhoc/);
		assert.throws(() => validateKeys({ ...DEFAULT_KEYS, threeWay: '*' }), /keys.return and keys.threeWay/);
		assert.throws(() => validateKeys({ ...DEFAULT_KEYS, transfer: 'x' }), /keys.transfer must be/);
		assert.throws(() => validateKeys({ ...DEFAULT_KEYS, terminator: '##' }), /terminator must be one digit/);
		assert.throws(() => new KeypadEngine({ keys: { conference: '' } }), /keys.conference/);
		assert.throws(() => new KeypadEngine({ digitTimeoutMs: 0 }), /digitTimeoutMs/);
	});

	it('a throwing listener does not break the engine', () => {
		const { k, log, type } = engine();
		k.once('collecting', () => {
			throw new Error('boom');
		});
		type('#1#');
		assert.deepEqual(log, ['collecting:transfer', 'transfer:1']);
	});
});
