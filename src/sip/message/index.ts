/** The SIP message layer: pure functions over bytes and strings, no I/O. */
export * from './types.js';
export { MAX_HEADERS, parseMessage } from './parser.js';
export { headerDisplayName, serializeMessage } from './serializer.js';
export { formatUri, parseUri } from './uri.js';
export {
	BRANCH_COOKIE,
	formatCSeq,
	formatNameAddr,
	formatParams,
	formatVia,
	generateBranch,
	generateCallId,
	generateTag,
	getVias,
	parseCSeq,
	parseNameAddr,
	parseParams,
	parseVia,
	quote,
	splitHeaderList,
	unquote,
} from './headers.js';
export { createResponse, reasonPhrase, type CreateResponseOptions } from './response.js';
