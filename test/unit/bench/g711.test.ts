import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALAW_TABLE, ULAW_TABLE, alawEncode, ulawEncode } from '../../../bench/codec/g711.js';
import { alawToPcm, linearToAlaw, linearToUlaw, ulawToPcm } from '../../../src/media/codecs/g711.js';

test('the bench G.711 agrees with the server tables on every sample and code', () => {
	for (let code = 0; code < 256; code++) {
		assert.equal(ULAW_TABLE[code], ulawToPcm(code), `ulaw ${code}`);
		assert.equal(ALAW_TABLE[code], alawToPcm(code), `alaw ${code}`);
	}
	let ulawDiff = 0;
	let alawDiff = 0;
	for (let v = -32768; v < 32768; v++) {
		if (ulawEncode(v) !== linearToUlaw(v)) {
			ulawDiff++;
		}
		if (alawEncode(v) !== linearToAlaw(v)) {
			alawDiff++;
		}
	}
	assert.equal(ulawDiff, 0);
	assert.equal(alawDiff, 0);
});
