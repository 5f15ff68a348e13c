/**
 * G.711 for the bench: the server's own tables (src/media/codecs/g711.ts),
 * which test/unit/media checks sample by sample against the independent Sun
 * reference in test/helpers/g711.ts. Encoding happens once, when the frame
 * tables are built; decoding is a table lookup per sample.
 */
import { alawToPcm, linearToAlaw, linearToUlaw, ulawToPcm } from '../../src/media/codecs/g711.js';

export const ulawEncode = linearToUlaw;
export const alawEncode = linearToAlaw;

export const ULAW_TABLE = new Int16Array(256);
export const ALAW_TABLE = new Int16Array(256);
for (let i = 0; i < 256; i++) {
	ULAW_TABLE[i] = ulawToPcm(i);
	ALAW_TABLE[i] = alawToPcm(i);
}
