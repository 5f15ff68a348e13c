import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

import { ConfigError } from '../../../src/common/errors.js';
import { loadConfigFile, resolveConfig } from '../../../src/config/index.js';

describe('transfer and voicemail configuration', () => {
	it('has the documented defaults, the same as config/default.json', () => {
		const c = resolveConfig({});
		assert.deepEqual(c.transfer.keys, { transfer: '#', terminator: '#', return: '*', threeWay: '#', conference: '**', adhoc: '*3' });
		assert.equal(c.transfer.digitTimeoutMs, 3000);
		assert.equal(c.transfer.noAnswerSec, 30);
		assert.equal(c.transfer.callerId.mode, 'client');
		assert.equal(c.transfer.incoming.action, 'return');
		assert.equal(c.transfer.outgoing.action, 'return');
		assert.equal(c.voicemail.maxMessageSec, 120);
		const file = resolveConfig(loadConfigFile(fileURLToPath(new URL('../../../../config/default.json', import.meta.url))));
		assert.deepEqual(file.transfer, c.transfer);
		assert.deepEqual(file.voicemail, c.voicemail);
	});

	it('takes per-direction policies and keeps the other keys at their defaults', () => {
		const c = resolveConfig({
			transfer: {
				keys: { transfer: '*2' },
				callerId: { mode: 'fixed', number: '+4930123', displayName: 'ACME' },
				incoming: { action: 'voicemail', mailbox: '200' },
				outgoing: { action: 'apologise', message: { source: 'tts', text: 'Sorry, nobody is free.', language: 'en' } },
			},
		});
		assert.equal(c.transfer.keys.transfer, '*2');
		assert.equal(c.transfer.keys.return, '*');
		assert.equal(c.transfer.incoming.action, 'voicemail');
		assert.equal(c.transfer.incoming.returnRingSec, 30);
		assert.equal(c.transfer.outgoing.message.source, 'tts');
		assert.equal(c.transfer.outgoing.message.file, '');
		assert.equal(c.transfer.callerId.displayName, 'ACME');
	});

	const bad: Array<[string, unknown, RegExp]> = [
		['an unknown key', { transfer: { colour: 1 } }, /unknown config key "transfer.colour"/],
		['an unknown feature key', { transfer: { keys: { park: '9' } } }, /transfer.keys.park/],
		['clashing keys', { transfer: { keys: { adhoc: '#' } } }, /transfer.keys.transfer and keys.adhoc/],
		['a key that is no DTMF digit', { transfer: { keys: { return: 'x' } } }, /keys.return must be/],
		['a digit timeout of 0', { transfer: { digitTimeoutMs: 0 } }, /transfer.digitTimeoutMs/],
		['no-answer time as text', { transfer: { noAnswerSec: '30' } }, /transfer.noAnswerSec/],
		['a fixed caller ID without a number', { transfer: { callerId: { mode: 'fixed' } } }, /callerId.number is required/],
		['an unknown caller ID mode', { transfer: { callerId: { mode: 'secret' } } }, /callerId.mode/],
		['a display name with a quote', { transfer: { callerId: { displayName: 'a"b' } } }, /displayName/],
		['an unknown action', { transfer: { incoming: { action: 'forward' } } }, /transfer.incoming.action/],
		['a file message without a file', { transfer: { outgoing: { message: { source: 'file' } } } }, /transfer.outgoing.message.file/],
		['an empty text to speak', { transfer: { incoming: { messageToClient: { source: 'tts', text: ' ' } } } }, /messageToClient.text/],
		['an unknown language', { transfer: { incoming: { messageToA: { language: 'fr' } } } }, /messageToA.language/],
		['a mailbox with a space', { transfer: { incoming: { mailbox: '2 0' } } }, /mailbox/],
		['a voicemail limit of 0', { voicemail: { maxMessageSec: 0 } }, /voicemail.maxMessageSec/],
		['a negative silence stop', { voicemail: { silenceStopSec: -1 } }, /voicemail.silenceStopSec/],
	];
	for (const [what, input, msg] of bad) {
		it(`refuses ${what}`, () => {
			assert.throws(() => resolveConfig(input as never), (e: unknown) => e instanceof ConfigError && msg.test(e.message));
		});
	}
});
