import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from '../../../src/index.js';
import { TestUA } from '../../helpers/test-ua.js';
import { until } from '../../helpers/wait.js';

/** Reads one sample of a Prometheus text exposition (labels matched as a substring). */
function sample(text: string, name: string, labels = ''): number | undefined {
	for (const line of text.split('\n')) {
		if (line.startsWith('#') || !line.startsWith(name)) {
			continue;
		}
		const rest = line.slice(name.length);
		if (!(rest.startsWith(' ') || rest.startsWith('{'))) {
			continue;
		}
		if (labels && !rest.includes(labels)) {
			continue;
		}
		return Number(line.slice(line.lastIndexOf(' ') + 1));
	}
	return undefined;
}

test('metrics expose calls, participants, SIP, RTP and mixer series with sensible values', { timeout: 30_000 }, async () => {
	const server = await createServer({ sip: { host: '127.0.0.1', port: 0 }, rooms: [{ name: 'M', number: '1000' }] });
	await server.start();
	const a = await TestUA.create({ user: 'ma' });
	const b = await TestUA.create({ user: 'mb' });
	try {
		assert.equal((await a.call({ host: '127.0.0.1', port: server.sipPort, user: '1000' }, { tone: 500 })).status, 200);
		assert.equal((await b.call({ host: '127.0.0.1', port: server.sipPort, user: '1000' }, { tone: 900 })).status, 200);
		await a.waitForAudio(8000, 10_000);
		const live = await server.metrics.render();
		assert.equal(sample(live, 'confsrv_calls'), 2);
		assert.equal(sample(live, 'confsrv_legs'), 2);
		assert.equal(sample(live, 'confsrv_participants'), 2);
		assert.equal(sample(live, 'confsrv_rooms_active'), 1);
		assert.ok((sample(live, 'confsrv_sip_requests_total', 'method="INVITE",direction="in"') ?? 0) >= 2);
		assert.ok((sample(live, 'confsrv_sip_responses_total', 'code="200",method="INVITE",direction="out"') ?? 0) >= 2);
		assert.ok((sample(live, 'confsrv_rtp_packets_in_total') ?? 0) > 20, 'RTP in counted');
		assert.ok((sample(live, 'confsrv_rtp_packets_out_total') ?? 0) > 20, 'RTP out counted');
		assert.equal(sample(live, 'confsrv_rtp_packets_lost_total'), 0, 'no loss on loopback');
		assert.ok((sample(live, 'confsrv_mixer_tick_seconds_count', 'worker="0"') ?? 0) > 10, 'mixer ticks in the histogram');
		const inf = sample(live, 'confsrv_mixer_tick_seconds_bucket', 'le="+Inf"');
		const oneFrame = sample(live, 'confsrv_mixer_tick_seconds_bucket', 'le="0.02"');
		assert.ok(inf !== undefined && oneFrame !== undefined && oneFrame <= inf, 'cumulative buckets');
		assert.notEqual(sample(live, 'confsrv_event_loop_lag_seconds'), undefined);
		assert.notEqual(sample(live, 'confsrv_mixer_worker_utilisation', 'worker="0"'), undefined);

		await a.bye();
		await b.bye();
		await until(() => server.stats().calls === 0, 5000, 'calls to end');
		const after = await server.metrics.render();
		assert.equal(sample(after, 'confsrv_calls'), 0);
		// Totals stay cumulative after the legs closed.
		assert.ok((sample(after, 'confsrv_rtp_packets_in_total') ?? 0) >= (sample(live, 'confsrv_rtp_packets_in_total') ?? 0));
		assert.ok((sample(after, 'confsrv_sip_requests_total', 'method="BYE",direction="in"') ?? 0) >= 2);
	} finally {
		a.close();
		b.close();
		await server.stop();
	}
});

test('the ops endpoint serves /metrics, /health and /ready over HTTP', { timeout: 30_000 }, async () => {
	const server = await createServer({ sip: { host: '127.0.0.1', port: 0 }, http: { enabled: true, host: '127.0.0.1', port: 0 } });
	await server.start();
	try {
		const base = `http://127.0.0.1:${server.httpPort}`;
		const m = await fetch(`${base}/metrics`);
		assert.equal(m.status, 200);
		assert.match(m.headers.get('content-type') ?? '', /text\/plain/);
		const text = await m.text();
		assert.equal(sample(text, 'confsrv_calls'), 0);
		assert.equal(sample(text, 'confsrv_rooms'), 1);
		assert.equal((await fetch(`${base}/health`)).status, 200);
		const ready = await fetch(`${base}/ready`);
		assert.equal(ready.status, 200);
		assert.deepEqual(await ready.json(), { status: 'ready' });
	} finally {
		await server.stop();
	}
});
