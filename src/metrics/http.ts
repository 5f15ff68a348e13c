import Fastify from 'fastify';
import type { Metrics } from './index.js';

/**
 * The operations endpoint: Prometheus scrapes /metrics, orchestrators probe
 * /health (the process answers) and /ready (it is serving calls). No auth:
 * it binds to 127.0.0.1 by default, like most exporters.
 */
export interface OpsHttp {
	port: number;
	close(): Promise<void>;
}

export async function startOpsHttp(opts: { host: string; port: number; metrics: Metrics; ready: () => boolean }): Promise<OpsHttp> {
	const app = Fastify({ logger: false });
	app.get('/metrics', async (_req, reply) => {
		reply.header('content-type', opts.metrics.contentType());
		return opts.metrics.render();
	});
	app.get('/health', async () => ({ status: 'ok' }));
	app.get('/ready', async (_req, reply) => {
		if (!opts.ready()) {
			reply.code(503);
			return { status: 'starting or stopping' };
		}
		return { status: 'ready' };
	});
	await app.listen({ host: opts.host, port: opts.port });
	const address = app.server.address();
	const port = typeof address === 'object' && address ? address.port : opts.port;
	return { port, close: () => app.close() };
}
