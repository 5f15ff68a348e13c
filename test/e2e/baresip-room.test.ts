/**
 * End to end with real softphones: two baresip callers dial room 1000 of an
 * in-process server, each "speaks" its own tone and records what it hears.
 * Each must hear the other's tone and not its own (N-1 mixing), and the
 * server must be empty afterwards.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { assertSoftphoneTools, describeResult, makeToneWav, sipcall, softphoneSkip, tempDir, wavcheck, type SipcallHandle, type SipcallResult } from '../helpers/softphone.js';

const skip = softphoneSkip();
const DURATION_S = 8;

type Server = Awaited<ReturnType<typeof import('../../src/index.js').createServer>>;

async function waitUntil(cond: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!cond()) {
		if (Date.now() > deadline) {
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
		}
		await new Promise((r) => setTimeout(r, 50));
	}
}

describe('baresip callers in a room', { skip, timeout: 240000 }, () => {
	let dir: { path: string; remove(): Promise<void> } | undefined;
	let server: Server | undefined;
	const phones: SipcallHandle[] = [];

	before(async () => {
		assertSoftphoneTools();
		dir = await tempDir('confsrv-e2e-room-');
		const { createServer } = await import('../../src/index.js');
		server = await createServer({
			sip: { host: '127.0.0.1', port: 0 },
			rtp: { portMin: 30000, portMax: 39999 },
			rooms: [{ name: 'e2e', number: '1000' }],
		});
		await server.start();
	});

	after(async () => {
		await Promise.all(phones.map((p) => p.stop()));
		await server?.stop();
		await dir?.remove();
	});

	it('two callers hear each other and not themselves (PCMU), then the server is empty', async (t) => {
		assert.ok(server && dir);
		const port = server.sipPort;
		const tones = [440, 1000] as const;
		const wavs = tones.map((f) => makeToneWav(dir!.path, f, DURATION_S, 0.5));
		const recs = tones.map((f) => path.join(dir!.path, `rec-${f}.wav`));

		const start = (i: 0 | 1): SipcallHandle => {
			const p = sipcall([
				'--target', `sip:1000@127.0.0.1:${port}`,
				'--codec', 'PCMU',
				'--play', wavs[i] as string,
				'--record', recs[i] as string,
				'--duration', String(DURATION_S),
				'--answer-timeout', '30',
			]);
			phones.push(p);
			return p;
		};
		const p1 = start(0);
		await p1.ready;
		// README: start instances ~100 ms apart
		await new Promise((r) => setTimeout(r, 150));
		const p2 = start(1);

		const results: SipcallResult[] = await Promise.all([p1.result, p2.result]);
		for (const [i, r] of results.entries()) {
			t.diagnostic(`caller ${tones[i]} Hz: ${describeResult(r).split('\n')[0]}`);
			assert.equal(r.exit_code, 0, `caller ${i + 1}: ${describeResult(r)}`);
			assert.equal(r.sip_code, 200, describeResult(r));
			assert.match(String(r.codec), /^PCMU/, describeResult(r));
			assert.equal(r.hangup_by, 'local', `caller ${i + 1} was hung up by the server early: ${describeResult(r)}`);
			assert.equal(r.hangup_reason, 'duration', describeResult(r));
			assert.ok((r.connected_s ?? 0) >= DURATION_S - 0.5, describeResult(r));
		}

		for (const [i, own] of tones.entries()) {
			const other = tones[1 - i] as number;
			const rec = recs[i] as string;
			// from 3 s both are in the room; stop before the other caller leaves
			const window = ['--from', '3', '--to', String(DURATION_S - 1)];
			const hears = await wavcheck(rec, [...window, '--freq', String(other), '--min-ratio', '0.2']);
			t.diagnostic(`caller ${own} Hz hears: ${hears.stdout.trim()}`);
			assert.equal(hears.code, 0, `caller ${own} Hz must hear ${other} Hz: ${hears.stdout}${hears.stderr}`);
			const self = await wavcheck(rec, [...window, '--freq', String(own), '--min-ratio', '0.05']);
			assert.equal(self.code, 1, `caller ${own} Hz must not hear itself: ${self.stdout}${self.stderr}`);
			assert.equal(self.result?.tones[0]?.present, false);
		}

		await waitUntil(
			() => {
				const s = server!.stats();
				return s.calls === 0 && s.legs === 0;
			},
			15000,
			() => `server.stats() to show 0 calls and 0 legs, got ${JSON.stringify(server!.stats())}`,
		);
		const s = server.stats();
		assert.equal(s.calls, 0);
		assert.equal(s.legs, 0);
	});
});
