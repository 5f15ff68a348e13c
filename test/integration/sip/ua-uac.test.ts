import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SipUserAgent, type IncomingInvite, type SessionModify } from '../../../src/sip/ua.js';
import { computeHA1, DigestAuthenticator } from '../../../src/sip/auth/digest.js';
import { until } from '../../helpers/wait.js';

/**
 * Our UAC against our UAS over real UDP: progress, answer with the UA core's
 * ACK, in-dialog requests both ways (re-INVITE, INFO, REFER, BYE), CANCEL,
 * failures, and a digest retry.
 */
function ua(): Promise<SipUserAgent> {
	return SipUserAgent.create({ host: '127.0.0.1', port: 0, advertisedAddress: '127.0.0.1', udp: true, tcp: false, t1Ms: 100, userAgent: 'test' });
}

const SDP_A = 'v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const SDP_B = 'v=0\r\no=b 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n';

test('UAC: 180 then 200, ACKed by the core; re-INVITE, INFO, REFER and BYE both ways', { timeout: 20_000 }, async () => {
	const a = await ua();
	const b = await ua();
	try {
		let incoming: IncomingInvite | undefined;
		b.on('invite', (inv) => {
			incoming = inv;
			inv.progress(180);
		});
		const out = a.invite({
			uri: `sip:2002@127.0.0.1:${b.port}`,
			dest: { transport: 'udp', address: '127.0.0.1', port: b.port },
			from: '"Alice" <sip:2001@127.0.0.1>',
			to: '<sip:2002@127.0.0.1>',
			sdp: SDP_A,
			headers: [['record-route', '<sip:proxy.invalid;lr>']],
		});
		const progress: number[] = [];
		out.on('progress', (res) => progress.push(res.status));
		await until(() => incoming !== undefined && progress.length > 0, 5000, '180 at the caller');
		assert.deepEqual(progress, [180]);
		const uas = incoming!.accept(SDP_B);
		const result = await out.result;
		assert.ok(result.ok);
		const uac = result.dialog;
		assert.equal(uac.role, 'uac');
		assert.equal(uac.remoteSdp, SDP_B);
		assert.equal(uac.remoteTag, uas.localTag);
		assert.equal(uac.localTag, uas.remoteTag);
		await until(() => uas.acked, 5000, 'ACK at the callee');
		assert.equal(a.dialogCount, 1);
		assert.equal(b.dialogCount, 1);

		// re-INVITE from the caller, answered by the callee's application.
		const offers: SessionModify[] = [];
		uas.on('modify', (m) => {
			offers.push(m);
			m.accept(SDP_B.replace('5000', '5002'));
		});
		const re = await uac.request('INVITE', { body: SDP_A.replace('4000', '4002').replace('RTP/AVP 0', 'RTP/AVP 0\r\na=sendonly') });
		assert.equal(re.status, 200);
		assert.match(uac.remoteSdp ?? '', /5002/);
		assert.equal(offers.length, 1);
		assert.match(offers[0]!.offer ?? '', /sendonly/);
		await until(() => uas.remoteSdp?.includes('4002') === true, 5000, 're-INVITE ACK');

		// re-INVITE from the callee with nobody listening: our SDP stays.
		const back = await uas.request('INVITE', { body: SDP_B });
		assert.equal(back.status, 200);
		assert.match(back.body.toString(), /4002/);

		// INFO and REFER from the callee to the caller.
		const infos: string[] = [];
		uac.on('info', (req) => infos.push(req.body.toString()));
		const info = await uas.request('INFO', { body: 'Signal=5\r\nDuration=160\r\n', contentType: 'application/dtmf-relay' });
		assert.equal(info.status, 200);
		assert.deepEqual(infos, ['Signal=5\r\nDuration=160\r\n']);
		const declined = await uas.request('REFER', { headers: [['refer-to', '<sip:3000@127.0.0.1>']] });
		assert.equal(declined.status, 603, 'nobody serves REFER: declined');
		uac.on('refer', (r) => r.accept());
		const referred = await uas.request('REFER', { headers: [['refer-to', '<sip:3000@127.0.0.1>']] });
		assert.equal(referred.status, 202);

		// BYE from the callee ends both.
		const ended = new Promise<string>((resolve) => uac.once('destroy', resolve));
		await uas.bye();
		assert.equal(await ended, 'bye');
		assert.equal(a.dialogCount, 0);
		assert.equal(b.dialogCount, 0);
	} finally {
		await a.close();
		await b.close();
	}
});

test('UAC: CANCEL while ringing ends with 487; a busy callee fails with 486; nobody there: 408', { timeout: 20_000 }, async () => {
	const a = await ua();
	const b = await ua();
	try {
		let cancelled = 0;
		b.on('invite', (inv) => {
			if (inv.requestUri.user === 'busy') {
				inv.reject(486, 'Busy Here');
				return;
			}
			inv.progress(180);
			inv.on('cancel', () => cancelled++);
		});
		const mk = (user: string, port = b.port) =>
			a.invite({ uri: `sip:${user}@127.0.0.1:${port}`, dest: { transport: 'udp', address: '127.0.0.1', port }, from: '<sip:2001@127.0.0.1>', to: `<sip:${user}@127.0.0.1>`, sdp: SDP_A });
		const ring = mk('2002');
		await new Promise<void>((resolve) => ring.once('progress', () => resolve()));
		ring.cancel();
		const r = await ring.result;
		assert.deepEqual(r.ok ? 'answered' : [r.status], [487]);
		assert.equal(cancelled, 1);

		const busy = await mk('busy').result;
		assert.deepEqual(busy.ok ? 'answered' : [busy.status, busy.reason], [486, 'Busy Here']);

		// A port nobody answers on: Timer B (64*T1 = 6.4 s here).
		const dead = await mk('x', 9).result;
		assert.equal(dead.ok ? 200 : dead.status, 408);
		assert.equal(a.dialogCount, 0);
		assert.equal(b.dialogCount, 0);
	} finally {
		await a.close();
		await b.close();
	}
});

test('UAC: a 407 is answered once with the credentials (verified by a real digest check)', { timeout: 20_000 }, async () => {
	const a = await ua();
	const b = await ua();
	const digest = new DigestAuthenticator({ realm: 'trunk' });
	const ha1 = (user: string, realm: string, alg: 'MD5' | 'SHA-256'): string | undefined => (user === 'pbx' ? computeHA1(alg, 'pbx', realm, 'trunk-secret') : undefined);
	try {
		let seen = 0;
		b.setInviteAuthenticator((req) => {
			seen++;
			const v = digest.verify('INVITE', req.headers.get('proxy-authorization'), ha1);
			return v.ok ? { ok: true } : { ok: false, reject: { status: 407, headers: digest.challenge().map((c) => ['proxy-authenticate', c] as [string, string]) } };
		});
		b.on('invite', (inv) => {
			inv.accept(SDP_B);
		});
		const out = a.invite({
			uri: `sip:+4930123@127.0.0.1:${b.port}`,
			dest: { transport: 'udp', address: '127.0.0.1', port: b.port },
			from: '<sip:pbx@127.0.0.1>',
			to: '<sip:+4930123@127.0.0.1>',
			sdp: SDP_A,
			credentials: { username: 'pbx', password: 'trunk-secret' },
		});
		const r = await out.result;
		assert.equal(r.ok ? 200 : r.status, 200);
		assert.equal(seen, 2);
	} finally {
		await a.close();
		await b.close();
	}
});
