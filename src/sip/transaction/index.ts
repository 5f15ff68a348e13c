/** RFC 3261 §17 transactions: the public surface of sip/transaction. */
export {
	TransactionLayer,
	type TransactionLayerEvents,
	type TransactionLayerOptions,
	type TransactionTransport,
} from './layer.js';
export {
	ClientTransaction,
	createCancel,
	createNon2xxAck,
	type ClientTransactionEvents,
	type ClientTransactionHandlers,
	type ClientTransactionState,
} from './client.js';
export { ServerTransaction, type ServerTransactionEvents, type ServerTransactionState } from './server.js';
export { DEFAULT_TIMERS, type TimerConfig } from './timers.js';
