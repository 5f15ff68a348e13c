import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FakeParty, rig, type Rig } from './fakes.js';

/** Nothing left behind: timers, loops, and the bridge closed once the call ended. */
function clean(r: Rig): void {
	assert.equal(r.call.pendingTimers, 0, 'no feature timer left');
	assert.equal(r.clock.pending, 0, 'no clock timer left');
	if (r.call.ended) {
		assert.deepEqual(r.rooms.closed, [r.call.room.id], 'the bridge closed once');
	}
}

async function transferTo(r: Rig, target = '2002'): Promise<void> {
	r.a.press(`#${target}#`);
	await r.settle();
}

describe('transfer state machine', () => {
	it('attended: client on hold with the melody, A consults B, A hangs up → client and B talk', async () => {
		const r = await rig();
		await transferTo(r);
		assert.equal(r.client.room, undefined, 'client out of the room');
		assert.deepEqual(r.client.leg.played, ['loop:melodies/transfer.wav']);
		assert.deepEqual(r.client.dtmfSent, [], 'no feature digit reached the client');
		assert.equal(r.dialer.last.target, '2002');
		assert.deepEqual(r.dialer.last.opts.callerId, { number: '+4930555', displayName: 'Client' });
		assert.deepEqual(r.a.leg.played, ['loop:ringback']);
		assert.equal(r.call.phase, 'ringing');
		const b = new FakeParty('2002', true, 'Bob');
		r.dialer.last.answer(b);
		await r.settle();
		assert.equal(r.call.phase, 'consulting');
		assert.equal(b.room, r.call.room, 'B talks with A');
		assert.equal(r.a.leg.looping, 0, 'ringback stopped');
		assert.equal(r.client.room, undefined, 'the client still waits');
		const transferred: string[] = [];
		r.call.on('transferred', (p) => transferred.push(p.number));
		r.a.bye();
		await r.settle();
		assert.deepEqual(transferred, ['2002']);
		assert.equal(r.client.room, r.call.room);
		assert.equal(r.client.leg.looping, 0, 'melody stopped');
		assert.equal(r.call.phase, 'talking');
		assert.deepEqual(r.call.parties.map((p) => p.number).sort(), ['+4930555', '2002']);
		clean(r);
		// B may transfer again: B has the keypad now.
		assert.equal(r.call.keypadOf(b)?.mode, 'talking');
		b.bye();
		await r.settle();
		assert.equal(r.client.ended, true, 'a two-party call ends with either side');
		assert.equal(r.call.ended, true);
		clean(r);
	});

	it('blind: A hangs up while B rings → B keeps ringing for the client and is connected on answer', async () => {
		const r = await rig();
		await transferTo(r);
		r.a.bye();
		await r.settle();
		assert.equal(r.call.phase, 'ringing');
		assert.equal(r.client.leg.looping, 1, 'the client still hears the melody');
		const b = new FakeParty('2002', true);
		r.dialer.last.answer(b);
		await r.settle();
		assert.equal(b.room, r.call.room);
		assert.equal(r.client.room, r.call.room);
		assert.equal(r.client.leg.looping, 0);
		clean(r);
		r.client.bye();
		await r.settle();
		assert.equal(b.ended, true);
		clean(r);
	});

	it('* before B answers cancels B and returns A to the client', async () => {
		const r = await rig();
		await transferTo(r);
		r.a.press('*');
		await r.settle();
		assert.equal(r.dialer.last.cancelled, true);
		assert.equal(r.client.room, r.call.room);
		assert.equal(r.client.leg.looping, 0);
		assert.equal(r.a.leg.looping, 0, 'ringback stopped');
		assert.equal(r.call.phase, 'talking');
		assert.equal(r.call.keypadOf(r.a)?.mode, 'talking');
		clean(r);
		// A can transfer again.
		await transferTo(r, '2003');
		assert.equal(r.dialer.attempts.length, 2);
		assert.equal(r.call.phase, 'ringing');
	});

	it('* after B answers (B declines) hangs B up and returns A to the client', async () => {
		const r = await rig();
		await transferTo(r);
		const b = new FakeParty('2002', true);
		r.dialer.last.answer(b);
		await r.settle();
		r.a.press('*');
		await r.settle();
		assert.equal(b.ended, true);
		assert.equal(b.endReason, 'transfer-returned');
		assert.equal(r.client.room, r.call.room);
		assert.equal(r.a.room, r.call.room);
		assert.equal(r.call.phase, 'talking');
		clean(r);
	});

	it('B hanging up while consulted returns A to the client', async () => {
		const r = await rig();
		await transferTo(r);
		const b = new FakeParty('2002', true);
		r.dialer.last.answer(b);
		await r.settle();
		b.bye();
		await r.settle();
		assert.equal(r.client.room, r.call.room);
		assert.equal(r.call.phase, 'talking');
		assert.equal(r.call.ended, false);
		clean(r);
	});

	it('# after B answers makes a three-way call; any one leaving leaves the other two talking', async () => {
		for (const leaver of ['a', 'b', 'client'] as const) {
			const r = await rig();
			await transferTo(r);
			const b = new FakeParty('2002', true);
			r.dialer.last.answer(b);
			await r.settle();
			r.a.press('#');
			await r.settle();
			assert.equal(r.call.phase, 'threeway');
			for (const p of [r.a, b, r.client]) {
				assert.equal(p.room, r.call.room, `${p.number} in the room of three`);
			}
			assert.equal(r.client.leg.looping, 0);
			const parties = { a: r.a, b, client: r.client };
			parties[leaver].bye();
			await r.settle();
			const rest = Object.entries(parties).filter(([k]) => k !== leaver);
			for (const [name, p] of rest) {
				assert.equal(p.ended, false, `${name} stays when ${leaver} leaves`);
				assert.equal(p.room, r.call.room);
			}
			assert.equal(r.call.phase, 'talking');
			assert.equal(r.call.ended, false);
			clean(r);
		}
	});

	it('* in the three-way call drops the third party', async () => {
		const r = await rig();
		await transferTo(r);
		const b = new FakeParty('2002', true);
		r.dialer.last.answer(b);
		await r.settle();
		r.a.press('#');
		await r.settle();
		r.a.press('*');
		await r.settle();
		assert.equal(b.ended, true);
		assert.equal(r.client.ended, false);
		assert.equal(r.call.phase, 'talking');
		clean(r);
	});

	for (const cause of ['busy', 'unreachable'] as const) {
		it(`B ${cause} while A waits: A is back with the client and hears the warning`, async () => {
			const r = await rig();
			await transferTo(r);
			r.dialer.last.fail(cause);
			await r.settle();
			assert.equal(r.client.room, r.call.room);
			assert.equal(r.a.leg.played.at(-1), 'en/transfer-failed-back.wav');
			assert.equal(r.client.leg.played.at(-1), 'loop:melodies/transfer.wav', 'no message to the client by default');
			assert.equal(r.call.phase, 'talking');
			clean(r);
		});
	}

	it('no answer within noAnswerSec while A waits: cancelled, back to A', async () => {
		const r = await rig((c) => (c.noAnswerSec = 20));
		await transferTo(r);
		r.clock.advance(19_999);
		await r.settle();
		assert.equal(r.call.phase, 'ringing');
		r.clock.advance(1);
		await r.settle();
		assert.equal(r.dialer.last.cancelled, true);
		assert.equal(r.client.room, r.call.room);
		clean(r);
	});

	it('policy return (blind, B no answer): A is rung again with the client as caller; answered → both warned', async () => {
		const r = await rig((c) => {
			c.incoming.messageToClient = { source: 'system', file: '', text: '', language: 'de' };
		});
		await transferTo(r);
		r.a.bye();
		await r.settle();
		r.clock.advance(30_000);
		await r.settle();
		assert.equal(r.dialer.attempts.length, 2);
		assert.equal(r.dialer.last.target, '2001', 'A rung again');
		assert.equal(r.dialer.last.opts.callerId.number, '+4930555');
		const a2 = new FakeParty('2001', true);
		r.dialer.last.answer(a2);
		await r.settle();
		assert.equal(a2.room, r.call.room);
		assert.equal(r.client.room, r.call.room);
		assert.equal(a2.leg.played.at(-1), 'en/transfer-failed-back.wav');
		assert.equal(r.client.leg.played.at(-1), 'de/transfer-failed-back.wav');
		clean(r);
	});

	it('policy return, A does not answer either, reroute on: the original route; it fails too → apology, hang-up', async () => {
		const r = await rig((c) => {
			c.incoming.rerouteToOriginal = true;
			c.incoming.returnRingSec = 10;
		});
		await transferTo(r);
		r.a.bye();
		await r.settle();
		r.dialer.last.fail('busy');
		await r.settle();
		assert.equal(r.dialer.last.target, '2001');
		r.clock.advance(10_000);
		await r.settle();
		assert.equal(r.dialer.attempts.length, 3);
		assert.equal(r.dialer.last.target, '2001', 'the number the client called');
		r.dialer.last.fail('unreachable', 480);
		await r.settle();
		assert.equal(r.client.leg.played.at(-1), 'en/transfer-failed-goodbye.wav');
		assert.equal(r.client.ended, true);
		assert.equal(r.call.ended, true);
		clean(r);
	});

	it('policy apologise with a synthesised or custom message', async () => {
		const r = await rig((c) => {
			c.incoming.action = 'apologise';
			c.incoming.message = { source: 'file', file: 'assets/prompts/it/goodbye.wav', text: '', language: 'en' };
		});
		await transferTo(r);
		r.a.bye();
		await r.settle();
		r.dialer.last.fail('busy');
		await r.settle();
		assert.equal(r.dialer.attempts.length, 1, 'nobody else is rung');
		assert.equal(r.client.leg.played.at(-1), 'it/goodbye.wav');
		assert.equal(r.client.ended, true);
		clean(r);
	});

	it('policy voicemail: greeting, message for the target (or the configured mailbox), then hang-up', async () => {
		const r = await rig((c) => {
			c.incoming.action = 'voicemail';
		});
		await transferTo(r);
		r.a.bye();
		await r.settle();
		r.dialer.last.fail('unreachable', 404);
		await r.settle();
		assert.deepEqual(r.voicemail, [{ mailbox: '2002', caller: '+4930555', reason: 'unreachable', greeting: 'en/leave-message.wav' }]);
		assert.equal(r.client.ended, true);
		clean(r);
		const r2 = await rig((c) => {
			c.incoming.action = 'voicemail';
			c.incoming.mailbox = '200';
		});
		await transferTo(r2);
		r2.a.bye();
		await r2.settle();
		r2.clock.advance(30_000);
		await r2.settle();
		assert.equal(r2.voicemail[0]?.mailbox, '200');
		assert.equal(r2.voicemail[0]?.reason, 'no-answer');
	});

	it('outgoing calls (A called the client) follow the outgoing policy', async () => {
		const r = await rig(
			(c) => {
				c.incoming.action = 'voicemail';
				c.outgoing.action = 'apologise';
			},
			{ clientIsCaller: false },
		);
		assert.equal(r.call.direction, 'outgoing');
		await transferTo(r);
		r.a.bye();
		await r.settle();
		r.dialer.last.fail('busy');
		await r.settle();
		assert.deepEqual(r.voicemail, []);
		assert.equal(r.client.leg.played.at(-1), 'en/transfer-failed-goodbye.wav');
	});

	it('caller ID shown to B: the number the client called, or a fixed company number', async () => {
		const r = await rig((c) => (c.callerId = { mode: 'called', number: '', displayName: '' }));
		await transferTo(r);
		assert.deepEqual(r.dialer.last.opts.callerId, { number: '2001', displayName: '' });
		const r2 = await rig((c) => (c.callerId = { mode: 'fixed', number: '+4930100', displayName: 'ACME' }));
		await transferTo(r2);
		assert.deepEqual(r2.dialer.last.opts.callerId, { number: '+4930100', displayName: 'ACME' });
	});

	it('ordinary digits pass to the other party; the client has no feature keys', async () => {
		const r = await rig();
		r.a.press('5');
		r.client.press('#1#');
		await r.settle();
		assert.deepEqual(r.client.dtmfSent, ['5']);
		assert.deepEqual(r.a.dtmfSent, ['#', '1', '#']);
		assert.equal(r.dialer.attempts.length, 0);
		// keypadFor 'all' gives the client the keys too.
		const r2 = await rig((c) => (c.keypadFor = 'all'));
		r2.client.press('#1#');
		await r2.settle();
		assert.equal(r2.dialer.last.target, '1');
		// transfer.enabled false: nobody has them.
		const r3 = await rig((c) => (c.enabled = false));
		r3.a.press('#1#');
		await r3.settle();
		assert.equal(r3.dialer.attempts.length, 0);
		assert.deepEqual(r3.client.dtmfSent, ['#', '1', '#']);
	});

	it('# then * while dialing: the client comes back off hold', async () => {
		const r = await rig();
		r.a.press('#20');
		await r.settle();
		assert.equal(r.client.room, undefined);
		r.a.press('*');
		await r.settle();
		assert.equal(r.client.room, r.call.room);
		assert.equal(r.client.leg.looping, 0);
		clean(r);
	});

	it('**room: the client goes into the conference room, A hangs up; an unknown room changes nothing', async () => {
		const r = await rig();
		r.a.press('**4711#');
		await r.settle();
		assert.equal(r.client.room, r.call.room, 'no room 4711: back in the call');
		assert.equal(r.call.ended, false);
		r.a.press('**1000#');
		await r.settle();
		assert.deepEqual(r.rooms.entered, [{ party: '+4930555', number: '1000', direct: false }]);
		assert.equal(r.client.ended, false, 'the room has the client now');
		assert.equal(r.a.ended, true);
		assert.equal(r.call.ended, true);
		clean(r);
	});

	it('*3: the other party, then the user, into the user\'s own room; again from a second call, the second leg ends', async () => {
		const r = await rig();
		r.a.press('*3');
		await r.settle();
		assert.equal(r.call.ended, false, 'A owns no room: nothing happens');
		r.rooms.owned.set('2001', '1000');
		r.a.press('*3');
		await r.settle();
		assert.deepEqual(r.rooms.entered, [
			{ party: '+4930555', number: '1000', direct: true },
			{ party: '2001', number: '1000', direct: true },
		]);
		assert.equal(r.a.ended, false, 'A is in the room');
		assert.equal(r.call.ended, true);
		// A second call of A's: *3 brings its other party in; A is already there.
		const r2 = await rig();
		r2.rooms.owned.set('2001', '1000');
		r2.rooms.present.add('1000/2001');
		r2.a.press('*3');
		await r2.settle();
		assert.deepEqual(r2.rooms.entered, [{ party: '+4930555', number: '1000', direct: true }]);
		assert.equal(r2.a.ended, true);
		assert.equal(r2.a.endReason, 'adhoc-added');
	});

	it('the client hanging up while A consults B leaves A and B talking', async () => {
		const r = await rig();
		await transferTo(r);
		const b = new FakeParty('2002', true);
		r.dialer.last.answer(b);
		await r.settle();
		r.client.bye();
		await r.settle();
		assert.equal(r.call.ended, false);
		assert.equal(r.call.phase, 'talking');
		assert.deepEqual(r.call.parties.map((p) => p.number).sort(), ['2001', '2002']);
		clean(r);
	});

	it('the client hanging up during a blind transfer cancels B and ends the call', async () => {
		const r = await rig();
		await transferTo(r);
		r.a.bye();
		await r.settle();
		r.client.bye();
		await r.settle();
		assert.equal(r.dialer.last.cancelled, true);
		assert.equal(r.call.ended, true);
		clean(r);
	});

	it('hangup() ends everything, including a B being consulted', async () => {
		const r = await rig();
		await transferTo(r);
		const b = new FakeParty('2002', true);
		r.dialer.last.answer(b);
		await r.settle();
		await r.call.hangup('api');
		assert.equal(b.ended && r.a.ended && r.client.ended, true);
		clean(r);
	});
});
