/**
 * The test UA against a real phone (baresip via sipcall), with no server of
 * ours in between: proves that TestUA's SIP, RTP, G.711 and RFC 4733 are
 * understood by an independent implementation, and that it understands it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { TestUA } from '../helpers/test-ua.js';
import { toneRatio } from '../helpers/goertzel.js';
import { assertSoftphoneTools, describeResult, makeToneWav, sipcall, softphoneSkip, tempDir, wavcheck, type SipcallHandle } from '../helpers/softphone.js';

const skip = softphoneSkip();
const RATE = 8000;

describe('TestUA vs baresip', { skip, timeout: 180000 }, () => {
	let dir: { path: string; remove(): Promise<void> };
	let t440 = '';
	const uas: TestUA[] = [];
	const phones: SipcallHandle[] = [];

	before(async () => {
		assertSoftphoneTools();
		dir = await tempDir('confsrv-testua-');
		t440 = makeToneWav(dir.path, 440, 30, 0.5);
	});

	after(async () => {
		for (const u of uas) {
			u.close();
		}
		await Promise.all(phones.map((p) => p.stop()));
		await dir?.remove();
	});

	async function newUa(opts: Parameters<typeof TestUA.create>[0]): Promise<TestUA> {
		const u = await TestUA.create(opts);
		uas.push(u);
		return u;
	}

	function phone(args: string[]): SipcallHandle {
		const p = sipcall(args);
		phones.push(p);
		return p;
	}

	it('calls a baresip callee: PCMU both ways, DTMF arrives, our BYE ends it', async (t) => {
		const rec = path.join(dir.path, 'bob-1.wav');
		const bob = phone(['--auto-answer', '--user', 'bob', '--codec', 'PCMU', '--play', t440, '--record', rec, '--wait', '60', '--max-duration', '60']);
		const ready = await bob.ready;
		const ua = await newUa({ user: 'alice' });
		const res = await ua.call({ host: '127.0.0.1', port: ready.sip_port, user: 'bob' }, { tone: 1000, codecs: ['PCMU'], timeoutMs: 30000 });
		assert.equal(res.status, 200, res.response.raw);
		assert.equal(res.codec, 'PCMU');
		assert.ok(res.dtmfPt !== null, 'baresip announces telephone-event');

		await ua.waitForAudio(4 * RATE, 30000);
		await ua.sendDtmf('159#');
		await new Promise((r) => setTimeout(r, 500));
		const byeRes = await ua.bye();
		assert.equal(byeRes.status, 200);

		const r = await bob.result;
		assert.equal(r.exit_code, 0, describeResult(r));
		assert.equal(r.sip_code, 200);
		assert.equal(r.hangup_by, 'remote', describeResult(r));
		assert.equal(r.dtmf_received, '159#', describeResult(r));
		assert.match(String(r.codec), /^PCMU/);

		// what baresip heard from us: our 1 kHz tone
		const wc = await wavcheck(rec, ['--from', '0.5', '--freq', '1000']);
		assert.equal(wc.code, 0, wc.stdout + wc.stderr);
		assert.ok((wc.result?.tones[0]?.ratio ?? 0) > 0.8, wc.stdout);
		t.diagnostic(`baresip heard: ${wc.stdout.trim()}`);
		assert.ok((wc.result?.seconds ?? 0) > 3, wc.stdout);

		// what we heard from baresip: its 440 Hz file (skip the first 0.5 s)
		const heard = ua.received.subarray(RATE / 2);
		t.diagnostic(`TestUA heard ${ua.packets.length} packets, 440 Hz ratio ${toneRatio(heard, RATE, 440).toFixed(3)}, 1 kHz ${toneRatio(heard, RATE, 1000).toFixed(4)}`);
		assert.ok(toneRatio(heard, RATE, 440) > 0.8, `440 Hz ratio ${toneRatio(heard, RATE, 440)}`);
		assert.ok(toneRatio(heard, RATE, 1000) < 0.05);
		const ssrcs = new Set(ua.packets.filter((p) => p.pt === 0).map((p) => p.ssrc));
		assert.equal(ssrcs.size, 1);
	});

	it('late offer with PCMA, and the phone hangs up first (we get its BYE)', async () => {
		const rec = path.join(dir.path, 'bob-2.wav');
		const bob = phone(['--auto-answer', '--user', 'bob2', '--codec', 'PCMA,PCMU', '--play', t440, '--record', rec, '--wait', '60', '--duration', '3']);
		const ready = await bob.ready;
		const ua = await newUa({ user: 'alice2' });
		const closed = ua.closed;
		const res = await ua.call({ host: '127.0.0.1', port: ready.sip_port, user: 'bob2' }, { tone: 1000, codecs: ['PCMA'], withSdp: false, timeoutMs: 30000 });
		assert.equal(res.status, 200, res.response.raw);
		assert.equal(res.codec, 'PCMA');
		const info = await ua.waitClosed(30000);
		assert.equal(info.by, 'remote');
		assert.equal(await closed, info);
		assert.equal(ua.byeReceived, true);
		const r = await bob.result;
		assert.equal(r.exit_code, 0, describeResult(r));
		assert.match(String(r.codec), /^PCMA/);
		const wc = await wavcheck(rec, ['--from', '0.5', '--freq', '1000']);
		assert.equal(wc.code, 0, wc.stdout + wc.stderr);
		assert.ok(ua.packets.some((p) => p.pt === 8));
		assert.ok(toneRatio(ua.received.subarray(RATE / 2), RATE, 440) > 0.8);
	});

	it('answers a call from baresip (UAS side): audio both ways, DTMF, its BYE', async () => {
		const rec = path.join(dir.path, 'caller-3.wav');
		const ua = await newUa({ user: 'carol', autoAnswer: true, answerTone: 1000 });
		const caller = phone(['--target', `sip:carol@127.0.0.1:${ua.sipPort}`, '--codec', 'PCMU', '--play', t440, '--record', rec, '--dtmf', '42*@1', '--duration', '4', '--answer-timeout', '30']);
		const call = await ua.waitForCall(30000);
		assert.equal(call.role, 'uas');
		assert.equal(call.codec, 'PCMU');
		const r = await caller.result;
		assert.equal(r.exit_code, 0, describeResult(r));
		assert.equal(r.sip_code, 200);
		assert.equal(r.dtmf_sent_negotiated, true, describeResult(r));
		await ua.waitClosed(10000);
		assert.equal(ua.byeReceived, true);
		assert.equal(ua.receivedDigits, '42*');
		assert.ok(toneRatio(ua.received.subarray(RATE / 2), RATE, 440) > 0.8);
		const wc = await wavcheck(rec, ['--from', '0.5', '--freq', '1000']);
		assert.equal(wc.code, 0, wc.stdout + wc.stderr);
	});
});
