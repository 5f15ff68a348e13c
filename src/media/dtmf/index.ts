/** Public surface of DTMF handling: the typed digit event, SIP INFO bodies, in-band detection. */
export { DTMF_DIGITS, DtmfDeduplicator, isDtmfDigit, parseSipInfoDtmf } from './events.js';
export type { DtmfEvent, DtmfSource } from './events.js';
export { InbandDtmfDetector } from './inband.js';
export { RFC4733_END_TIMEOUT_MS, Rfc4733Digits } from './rfc4733.js';
