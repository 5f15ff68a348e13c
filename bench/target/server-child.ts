/**
 * Runs confsrv in a child process for the bench: the server from src/, with
 * its mixer statistics (the 'confsrv:mixer:stats' diagnostics channel)
 * forwarded to the bench over IPC. Config comes as JSON in
 * BENCH_SERVER_CONFIG. Logs go to stdout (pino), which the bench writes to a
 * file.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { createServer } from '../../src/index.js';

type Msg = { type: 'stop' } | { type: 'stats'; id: number };

async function main(): Promise<void> {
	const config = JSON.parse(process.env['BENCH_SERVER_CONFIG'] ?? '{}') as Parameters<typeof createServer>[0];
	const server = await createServer(config);
	diagnostics_channel.subscribe('confsrv:mixer:stats', (msg) => {
		process.send?.({ type: 'mixer', data: msg });
	});
	await server.start();
	let stopping = false;
	const stop = async (): Promise<void> => {
		if (stopping) {
			return;
		}
		stopping = true;
		try {
			await server.stop();
		} finally {
			process.exit(0);
		}
	};
	process.on('message', (m: Msg) => {
		if (m.type === 'stop') {
			void stop();
		} else if (m.type === 'stats') {
			process.send?.({ type: 'stats', id: m.id, stats: server.stats() });
		}
	});
	process.on('disconnect', () => void stop());
	process.on('SIGTERM', () => void stop());
	process.send?.({ type: 'ready', sipPort: server.sipPort });
}

main().catch((error: unknown) => {
	process.send?.({ type: 'error', error: error instanceof Error ? error.stack ?? error.message : String(error) });
	process.exit(1);
});
