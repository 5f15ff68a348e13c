/**
 * The test UA against itself and against raw sockets: proves its SIP
 * transactions, RTP timing/headers, DTMF and audio decoding without any
 * server code. (test-ua-vs-baresip.test.ts checks it against a real phone.)
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { TestUA, parseSip, buildSip } from '../helpers/test-ua.js';
import { toneRatio } from '../helpers/goertzel.js';

const uas: TestUA[] = [];
async function ua(opts: Parameters<typeof TestUA.create>[0] = {}): Promise<TestUA> {
	const u = await TestUA.create(opts);
	uas.push(u);
	return u;
}
after(() => {
	for (const u of uas) {
		u.close();
	}
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('TestUA loopback', { timeout: 60000 }, () => {
	it('calls another TestUA: 2xx/ACK, tones both ways, RTP headers, DTMF, BYE', async () => {
		const alice = await ua({ user: 'alice' });
		const bob = await ua({ user: 'bob', autoAnswer: true, answerTone: 1000 });
		const res = await alice.call({ host: '127.0.0.1', port: bob.sipPort, user: 'bob' }, { tone: 440, codecs: ['PCMA', 'PCMU'] });
		assert.equal(res.status, 200);
		assert.equal(res.codec, 'PCMA');
		assert.equal(res.dtmfPt, 101);
		assert.deepEqual(res.remoteRtp, { host: '127.0.0.1', port: bob.rtpPort });
		assert.ok(res.provisional.some((p) => p.status === 180));
		const ack = await bob.waitForRequest('ACK');
		assert.equal(ack.callId, res.callId);
		assert.equal(ack.cseq?.method, 'ACK');
		assert.equal(ack.uri, bob.contactUri);

		await alice.waitForAudio(8000);
		await bob.waitForAudio(8000);
		assert.ok(toneRatio(alice.received, 8000, 1000) > 0.9, 'alice hears 1 kHz');
		assert.ok(toneRatio(bob.received, 8000, 440) > 0.9, 'bob hears 440 Hz');
		assert.ok(toneRatio(bob.received, 8000, 1000) < 0.01, 'bob does not hear himself');

		// alice's stream as bob saw it: one SSRC, +1 seq, +160 ts, marker on the first, PCMA
		const pk = bob.packets.filter((p) => p.pt === 8);
		assert.ok(pk.length >= 50);
		assert.equal(new Set(pk.map((p) => p.ssrc)).size, 1);
		assert.equal(pk[0]?.marker, true);
		for (let i = 1; i < pk.length; i++) {
			const a = pk[i - 1];
			const b = pk[i];
			assert.ok(a && b);
			assert.equal(b.seq, (a.seq + 1) & 0xffff, `seq at ${i}`);
			assert.equal(b.ts, (a.ts + 160) >>> 0, `ts at ${i}`);
			assert.equal(b.marker, false);
			assert.equal(b.payloadBytes, 160);
			assert.equal(b.from.port, alice.rtpPort);
		}
		// pacing: 50 packets take ~1 s (generous on a shared machine)
		const span = (pk[pk.length - 1]?.at ?? 0) - (pk[0]?.at ?? 0);
		const rate = ((pk.length - 1) / span) * 1000;
		assert.ok(rate > 35 && rate < 65, `packet rate ${rate}/s`);

		await alice.sendDtmf('12#');
		await bob.waitForDigits('12#', 5000);
		const ev = bob.dtmfEvents.filter((e) => e.digit === '1');
		assert.equal(ev.length, 12, '9 + 3 end packets');
		assert.equal(ev.filter((e) => e.end).length, 3);
		assert.equal(new Set(ev.map((e) => e.ts)).size, 1, 'one timestamp per event');
		assert.equal(ev[ev.length - 1]?.duration, 1440);
		// DTMF shares SSRC and sequence space with audio
		assert.equal(new Set(bob.packets.map((p) => p.ssrc)).size, 1);

		const closed = bob.closed;
		const byeRes = await alice.bye();
		assert.equal(byeRes.status, 200);
		const info = await closed;
		assert.equal(info.by, 'remote');
		assert.equal(bob.byeReceived, true);
		assert.equal(bob.inCall, false);
		assert.equal(alice.inCall, false);
		const n = bob.packets.length;
		await sleep(200);
		assert.ok(bob.packets.length - n <= 2, 'alice stopped sending after BYE');
	});

	it('late offer: INVITE without SDP, answer in the ACK', async () => {
		const alice = await ua({ user: 'alice2' });
		const bob = await ua({ user: 'bob2', autoAnswer: true, answerTone: 700 });
		const res = await alice.call({ host: '127.0.0.1', port: bob.sipPort, user: 'bob2' }, { withSdp: false, tone: 1200, codecs: ['PCMU'] });
		assert.equal(res.status, 200);
		assert.equal(res.codec, 'PCMU');
		const inv = await bob.waitForRequest('INVITE');
		assert.equal(inv.body, '');
		const ack = await bob.waitForRequest('ACK');
		assert.match(ack.body, /m=audio \d+ RTP\/AVP 0 101/);
		await bob.waitForAudio(4000);
		await alice.waitForAudio(4000);
		assert.ok(toneRatio(bob.received, 8000, 1200) > 0.9);
		assert.ok(toneRatio(alice.received, 8000, 700) > 0.9);
		// the far end hangs up this time
		await bob.bye();
		await alice.waitClosed(5000);
		assert.equal(alice.byeReceived, true);
	});

	it('a rejected call is ACKed in the INVITE transaction (same branch)', async () => {
		const alice = await ua({ user: 'alice3' });
		const busy = await ua({ user: 'busy' });
		const res = await alice.call({ host: '127.0.0.1', port: busy.sipPort, user: 'busy' });
		assert.equal(res.status, 486);
		assert.equal(alice.inCall, false);
		const inv = await busy.waitForRequest('INVITE');
		const ack = await busy.waitForRequest('ACK');
		assert.equal(ack.branch, inv.branch);
		assert.equal(ack.uri, inv.uri);
		assert.equal(ack.header('to'), res.response.header('to'));
		assert.match(ack.header('to') ?? '', /;tag=/);
	});

	it('retransmits INVITE per Timer A, re-ACKs a retransmitted 2xx, and times out clearly', async () => {
		const sock = dgram.createSocket('udp4');
		await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
		const port = sock.address().port;
		const seen: Array<{ at: number; text: string }> = [];
		sock.on('message', (buf, rinfo) => {
			const text = buf.toString();
			seen.push({ at: Date.now(), text });
			const m = parseSip(text);
			// answer only the second INVITE, with a 200 sent twice
			if (m.method === 'INVITE' && seen.filter((s) => s.text.startsWith('INVITE')).length === 2) {
				const ok = buildSip('SIP/2.0 200 OK', [
					...m.headerAll('via').map((v) => ['Via', v] as const),
					['From', m.header('from') ?? ''],
					['To', `${m.header('to') ?? ''};tag=srv`],
					['Call-ID', m.callId ?? ''],
					['CSeq', m.header('cseq') ?? ''],
					['Contact', `<sip:srv@127.0.0.1:${port}>`],
				]);
				sock.send(ok, rinfo.port, rinfo.address);
				setTimeout(() => sock.send(ok, rinfo.port, rinfo.address), 100);
			}
		});
		try {
			const alice = await ua({ user: 'alice4' });
			const t0 = Date.now();
			const res = await alice.call({ host: '127.0.0.1', port, user: 'x' }, { timeoutMs: 5000 });
			assert.equal(res.status, 200);
			assert.equal(res.codec, null, 'no SDP in the 2xx: no media');
			const invites = seen.filter((s) => s.text.startsWith('INVITE'));
			assert.equal(invites.length, 2);
			const gap = (invites[1]?.at ?? 0) - t0;
			assert.ok(gap >= 450 && gap < 1500, `retransmission after ${gap} ms`);
			await sleep(300);
			const acks = seen.filter((s) => s.text.startsWith('ACK'));
			assert.equal(acks.length, 2, 'ACK repeated for the retransmitted 2xx');
			assert.match(acks[0]?.text ?? '', new RegExp(`^ACK sip:srv@127\\.0\\.0\\.1:${port} SIP/2\\.0`));
			assert.notEqual(parseSip(acks[0]?.text ?? '').branch, parseSip(invites[0]?.text ?? '').branch, '2xx ACK is a new transaction');

			const silent = await ua({ user: 'alice5' });
			await assert.rejects(silent.call({ host: '127.0.0.1', port, user: 'nobody' }, { timeoutMs: 1200 }), /no final response to INVITE/);
		} finally {
			sock.close();
		}
	});

	it('answers OPTIONS and unknown requests, logs raw traffic', async () => {
		const a = await ua({ user: 'a6' });
		const b = await ua({ user: 'b6' });
		const callId = 'opt-1@test';
		a.sendRaw(
			buildSip(`OPTIONS sip:b6@127.0.0.1:${b.sipPort} SIP/2.0`, [
				['Via', a.via()],
				['From', '<sip:a6@127.0.0.1>;tag=1'],
				['To', '<sip:b6@127.0.0.1>'],
				['Call-ID', callId],
				['CSeq', '1 OPTIONS'],
				['Max-Forwards', 70],
			]),
			'127.0.0.1',
			b.sipPort,
		);
		const r = await a.waitForResponse(callId, 'OPTIONS', 3000);
		assert.equal(r.status, 200);
		assert.match(r.header('to') ?? '', /;tag=/);
		a.sendRaw(
			buildSip(`FOO sip:b6@127.0.0.1 SIP/2.0`, [['Via', a.via()], ['From', '<sip:a@x>;tag=1'], ['To', '<sip:b@x>'], ['Call-ID', 'foo@x'], ['CSeq', '1 FOO']]),
			'127.0.0.1',
			b.sipPort,
		);
		assert.equal((await a.waitForResponse('foo@x', 'FOO', 3000)).status, 501);
		a.sendRaw('garbage\r\n\r\n', '127.0.0.1', b.sipPort);
		await sleep(100);
		assert.equal(b.garbage.length, 1);
		await assert.rejects(a.waitForResponse('never@x', undefined, 300), /no response for Call-ID never@x/);
	});

	it('sends RTP from another socket with rtpFromPort: other', async () => {
		const alice = await ua({ user: 'alice7' });
		const bob = await ua({ user: 'bob7', autoAnswer: true, answerTone: 1000 });
		const res = await alice.call({ host: '127.0.0.1', port: bob.sipPort, user: 'bob7' }, { tone: 440, rtpFromPort: 'other' });
		assert.equal(res.status, 200);
		await bob.waitForAudio(1600);
		await alice.waitForAudio(1600);
		assert.ok(alice.rtpOtherPort !== null && alice.rtpOtherPort !== alice.rtpPort);
		assert.ok(bob.packets.every((p) => p.from.port === alice.rtpOtherPort));
		// bob is not symmetric: he sends to the SDP address, which alice records as 'sdp'
		assert.ok(alice.packets.every((p) => p.socket === 'sdp'));
		await alice.bye();
	});
});
