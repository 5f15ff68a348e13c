#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createServer } from './server.js';
import { envOverrides, loadConfigFile, type Config, type DeepPartial } from './config/index.js';
import { logger } from './common/logger.js';

/**
 * CLI entry: `node dist/src/main.js [--config file.json]`. Without --config it
 * reads config/default.json when present, else runs on embedded defaults.
 * Environment overrides (CONFSRV_SIP_HOST, CONFSRV_SIP_PORT,
 * CONFSRV_ADVERTISED_ADDRESS) apply last.
 */
async function main(): Promise<void> {
	const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } });
	if (values.help) {
		process.stdout.write('usage: confsrv [--config config.json]\n');
		return;
	}
	const defaultPath = fileURLToPath(new URL('../../config/default.json', import.meta.url));
	const path = values.config ?? process.env['CONFSRV_CONFIG'] ?? (existsSync(defaultPath) ? defaultPath : undefined);
	const fileConfig: DeepPartial<Config> = path ? loadConfigFile(path) : {};
	const env = envOverrides(process.env);
	const merged = {
		...fileConfig,
		sip: { ...fileConfig.sip, ...env.sip },
		rtp: { ...fileConfig.rtp, ...env.rtp },
	} as DeepPartial<Config>;
	const server = await createServer(merged);
	await server.start();
	let stopping = false;
	const stop = (signal: string): void => {
		if (stopping) {
			return;
		}
		stopping = true;
		logger.info({ signal }, 'shutting down');
		server.stop().then(
			() => {
				logger.flush?.();
				process.exit(0);
			},
			(error: unknown) => {
				logger.error({ err: error }, 'shutdown failed');
				process.exit(1);
			},
		);
	};
	process.on('SIGINT', () => stop('SIGINT'));
	process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
	logger.fatal({ err: error }, 'cannot start');
	process.exitCode = 1;
	setTimeout(() => process.exit(1), 100).unref();
});
