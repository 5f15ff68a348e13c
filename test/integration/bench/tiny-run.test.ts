import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench, type BenchResult } from '../../../bench/run.js';
import { renderHtml } from '../../../bench/report/html.js';
import { formatTable } from '../../../bench/report/table.js';

/**
 * The whole bench, tiny: the server in a child process, 1 room × 3 callers
 * for 4 s from the in-process generator. The result must survive a JSON
 * round trip, show no loss, and every caller must have heard the other two
 * callers' marker tones and never its own.
 */
test('tiny bench run: valid JSON result, zero loss, everyone hears everyone else', { timeout: 90_000 }, async () => {
	const dir = mkdtempSync(join(tmpdir(), 'bench-tiny-'));
	try {
		const result = await runBench({
			rooms: 1,
			participants: 3,
			durationSec: 4,
			warmupSec: 1,
			generators: 0,
			probesPerRoom: 3,
			serverLog: join(dir, 'server.log'),
		});
		const file = join(dir, 'result.json');
		writeFileSync(file, JSON.stringify(result));
		const parsed = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
		assert.equal(parsed.version, 1);
		assert.equal(parsed.mode, 'single');
		assert.equal(parsed.runs.length, 1);
		const run = parsed.runs[0]!;
		assert.equal(run.target, 'self');
		assert.equal(run.steps.length, 1);
		const s = run.steps[0]!;
		assert.equal(s.participants, 3);
		assert.equal(s.calls.ok, 3, `calls failed: ${JSON.stringify(s.calls.failures)}`);
		assert.equal(s.calls.setupMs.count, 3);
		assert.ok(s.calls.setupMs.p50 > 0);
		// 3 participants × ~4 s × 50 packets/s.
		assert.ok(s.packets.expected >= 3 * 150, `expected ${s.packets.expected}`);
		assert.equal(s.packets.lost, 0, 'no packet lost');
		assert.equal(s.packets.lossRatio, 0);
		assert.equal(s.packets.duplicates, 0);
		assert.ok(s.jitterMs.count === 3 && s.jitterMs.max < 20, `jitter ${JSON.stringify(s.jitterMs)}`);
		// Markers every second rotate over the three callers: each hears the other two.
		assert.equal(s.hearing.length, 3);
		for (const h of s.hearing) {
			const others = ['r0p0', 'r0p1', 'r0p2'].filter((id) => id !== h.id);
			assert.deepEqual(h.heardFrom, others, `${h.id} heard ${h.heardFrom.join(',')}`);
			assert.equal(h.selfHeard, 0, `${h.id} heard its own marker`);
		}
		assert.ok(s.delay.ms.count >= 2);
		assert.ok(s.delay.ms.p50 > 0 && s.delay.ms.p50 < 200, `delay ${JSON.stringify(s.delay.ms)}`);
		assert.ok(s.server, 'server CPU/RSS from /proc');
		assert.ok(s.server.rssMb > 10);
		assert.ok(s.server.cpuUsPerParticipantFrame > 0);
		assert.equal(s.verdict.ok, true, s.verdict.reasons.join('; '));
		// The reports render from the parsed result.
		assert.match(renderHtml(parsed), /<svg/);
		assert.match(formatTable(parsed), /packets lost/);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
