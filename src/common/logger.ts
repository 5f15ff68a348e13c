import pino from 'pino';

/**
 * The process-wide pino logger. LOG_LEVEL overrides the level; tests run with
 * 'silent' unless LOG_LEVEL is set so their output stays readable.
 */
const level = process.env['LOG_LEVEL'] ?? (process.env['NODE_TEST_CONTEXT'] ? 'silent' : 'info');

export const logger = pino({ level, base: { pid: process.pid } });

export type Logger = pino.Logger;

export function childLogger(bindings: Record<string, unknown>): Logger {
	return logger.child(bindings);
}
