import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestUA } from '../../helpers/test-ua.js';

/**
 * The real CLI: `node dist/src/main.js --config file` starts, serves a call,
 * and on SIGTERM sends BYE to it, stops and exits 0. A bad config exits 1
 * with a message naming the key.
 */
const MAIN = fileURLToPath(new URL('../../../src/main.js', import.meta.url));

function startMain(configPath: string): { child: ReturnType<typeof spawn>; port: Promise<number>; exit: Promise<number | null>; output: () => string } {
	const child = spawn(process.execPath, [MAIN, '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } });
	let out = '';
	const port = new Promise<number>((resolve, reject) => {
		child.stdout!.on('data', (d: Buffer) => {
			out += d.toString();
			for (const line of out.split('\n')) {
				if (line.includes('"server listening"')) {
					resolve((JSON.parse(line) as { sip: { port: number } }).sip.port);
				}
			}
		});
		child.once('exit', () => reject(new Error(`exited before listening: ${out}`)));
	});
	port.catch(() => undefined);
	child.stderr!.on('data', (d: Buffer) => {
		out += d.toString();
	});
	const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
	return { child, port, exit, output: () => out };
}

test('main.js serves a call and exits 0 on SIGTERM after sending BYE', { timeout: 60_000 }, async () => {
	const dir = mkdtempSync(join(tmpdir(), 'confsrv-main-'));
	const config = join(dir, 'config.json');
	writeFileSync(config, JSON.stringify({ sip: { port: 0 }, rooms: [{ name: 'Main', number: '3000' }] }));
	const srv = startMain(config);
	const ua = await TestUA.create({ user: 'main' });
	try {
		const port = await srv.port;
		const res = await ua.call({ host: '127.0.0.1', port, user: '3000' }, { tone: 440 });
		assert.equal(res.status, 200);
		srv.child.kill('SIGTERM');
		const closed = await ua.waitClosed(10_000);
		assert.equal(closed.by, 'remote', 'the call got a BYE');
		assert.equal(await srv.exit, 0, srv.output());
		assert.match(srv.output(), /participant joined/);
		assert.match(srv.output(), /participant left/);
	} finally {
		ua.close();
		srv.child.kill('SIGKILL');
		rmSync(dir, { recursive: true, force: true });
	}
});

test('main.js refuses an unknown config key with a clear message and exit 1', { timeout: 30_000 }, async () => {
	const dir = mkdtempSync(join(tmpdir(), 'confsrv-main-'));
	const config = join(dir, 'config.json');
	writeFileSync(config, JSON.stringify({ sip: { prot: 5060 } }));
	try {
		const srv = startMain(config);
		assert.equal(await srv.exit, 1);
		assert.match(srv.output(), /unknown config key \\"sip\.prot\\"/);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
