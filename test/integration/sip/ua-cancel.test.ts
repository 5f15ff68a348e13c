import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { SipUserAgent, type IncomingInvite } from '../../../src/sip/ua.js';
import { until } from '../../helpers/wait.js';

/**
 * CANCEL of an INVITE the application has not answered yet: 200 for the
 * CANCEL, 487 for the INVITE, and a later accept() is refused.
 */
test('CANCEL before the answer: 200 for the CANCEL, 487 for the INVITE, accept() refused', { timeout: 20_000 }, async () => {
	const ua = await SipUserAgent.create({ host: '127.0.0.1', port: 0, advertisedAddress: '127.0.0.1', udp: true, tcp: false, t1Ms: 500, userAgent: 'test' });
	const sock = dgram.createSocket('udp4');
	await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
	const got: string[] = [];
	sock.on('message', (m) => got.push(m.toString('latin1')));
	let pending: IncomingInvite | undefined;
	let cancelEvents = 0;
	ua.on('invite', (inv) => {
		pending = inv;
		inv.on('cancel', () => cancelEvents++);
	});
	try {
		const port = (sock.address() as { port: number }).port;
		const common = (method: string): string[] => [
			`Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-uac-1`,
			`From: <sip:a@127.0.0.1:${port}>;tag=a1`,
			'To: <sip:1000@127.0.0.1>',
			'Call-ID: ua-cancel-1',
			`CSeq: 1 ${method}`,
			'Max-Forwards: 70',
		];
		const invite = [`INVITE sip:1000@127.0.0.1:${ua.port} SIP/2.0`, ...common('INVITE'), `Contact: <sip:a@127.0.0.1:${port}>`, 'Content-Length: 0', '', ''].join('\r\n');
		sock.send(invite, ua.port, '127.0.0.1');
		await until(() => pending !== undefined, 5000, 'the INVITE to reach the application');
		const cancel = [`CANCEL sip:1000@127.0.0.1:${ua.port} SIP/2.0`, ...common('CANCEL'), 'Content-Length: 0', '', ''].join('\r\n');
		sock.send(cancel, ua.port, '127.0.0.1');
		await until(() => got.some((g) => g.startsWith('SIP/2.0 487')), 5000, '487');
		assert.ok(got.some((g) => g.startsWith('SIP/2.0 200') && /CSeq: 1 CANCEL/.test(g)), '200 OK for the CANCEL');
		assert.match(got.find((g) => g.startsWith('SIP/2.0 487'))!, /CSeq: 1 INVITE/);
		assert.equal(cancelEvents, 1);
		assert.equal(pending!.cancelled, true);
		assert.throws(() => pending!.accept('v=0\r\n'), { code: 'INVALID_STATE' });
		assert.equal(ua.dialogCount, 0);
	} finally {
		sock.close();
		await ua.close();
	}
});
