import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import { ConfigError } from '../../../src/common/errors.js';
import { resolveConfig, type UserConfig } from '../../../src/config/index.js';
import { InviteAuthPolicy, RequestAuthenticator, UserDirectory } from '../../../src/calls/users.js';
import { buildAuthorization } from '../../../src/sip/auth/index.js';
import { parseMessage, type SipRequest } from '../../../src/sip/message/index.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('users in the configuration', () => {
	it('hashes passwords to HA1 for the realm and keeps no cleartext', () => {
		const input = { sip: { realm: 'corp' }, users: [{ extension: '2001', displayName: 'Alice', password: 'pa55' }] };
		const c = resolveConfig(input);
		assert.deepEqual(c.users, [{ extension: '2001', displayName: 'Alice', ha1: { md5: md5('2001:corp:pa55'), sha256: sha256('2001:corp:pa55') } }]);
		assert.ok(!JSON.stringify(c).includes('pa55'));
		assert.equal(input.users[0]?.password, 'pa55', "the caller's object is not modified");
		// A resolved configuration resolves again to the same thing (ha1 given directly).
		assert.deepEqual(resolveConfig(c).users, c.users);
	});

	it('has the documented defaults', () => {
		const c = resolveConfig({});
		assert.deepEqual(c.users, []);
		assert.equal(c.sip.realm, 'confsrv');
		assert.equal(c.sip.authenticateRoomCalls, false);
		assert.deepEqual(c.sip.rateLimit, { perSecond: 200, burst: 400 });
		assert.deepEqual(c.registrar, { minExpires: 60, maxExpires: 3600, defaultExpires: 3600 });
		assert.equal(c.dataDir, undefined);
	});

	it('refuses bad users with a message naming the key', () => {
		const bad: Array<[UserConfig[] | unknown, RegExp]> = [
			[[{ extension: '2001', displayName: 'A' }], /users\[0\] needs exactly one of password and ha1/],
			[[{ extension: '2001', displayName: 'A', password: 'x', ha1: { md5: 'a', sha256: 'b' } }], /exactly one/],
			[[{ extension: '2001', displayName: 'A', ha1: { md5: 'zz', sha256: 'b' } }], /users\[0\]\.ha1/],
			[[{ extension: '2001', displayName: 'A', password: 'x' }, { extension: '2001', displayName: 'B', password: 'y' }], /users\[1\]\.extension 2001 is used twice/],
			[[{ extension: '1000', displayName: 'A', password: 'x' }], /also a room number/],
			[[{ extension: 'a b', displayName: 'A', password: 'x' }], /users\[0\]\.extension/],
			[[{ extension: '2001', displayName: 'A', password: 'x', pin: '1' }], /unknown config key "users\[0\]\.pin"/],
		];
		for (const [users, message] of bad) {
			assert.throws(() => resolveConfig({ users: users as UserConfig[] }), (e: unknown) => e instanceof ConfigError && message.test(e.message));
		}
		assert.throws(() => resolveConfig({ registrar: { minExpires: 600, maxExpires: 60 } }), /registrar\.minExpires/);
		assert.throws(() => resolveConfig({ sip: { rateLimit: { perSecond: -1, burst: 1 } } }), /sip\.rateLimit\.perSecond/);
		assert.throws(() => resolveConfig({ sip: { realm: 'a\nb' } }), /sip\.realm/);
	});
});

function invite(o: { from: string; to: string; auth?: string }): SipRequest {
	const lines = [
		`INVITE sip:${o.to}@127.0.0.1 SIP/2.0`,
		'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1',
		`From: <sip:${o.from}@127.0.0.1>;tag=a`,
		`To: <sip:${o.to}@127.0.0.1>`,
		'Call-ID: inv-1',
		'CSeq: 1 INVITE',
		'Max-Forwards: 70',
		...(o.auth !== undefined ? [`Proxy-Authorization: ${o.auth}`] : []),
		'Content-Length: 0',
		'',
		'',
	];
	return parseMessage(Buffer.from(lines.join('\r\n'))) as SipRequest;
}

describe('InviteAuthPolicy', () => {
	const users = UserDirectory.fromConfig(resolveConfig({ sip: { realm: 'r' }, users: [{ extension: '2001', displayName: 'A', password: 'pw1' }, { extension: '2002', displayName: 'B', password: 'pw2' }] }).users, 'r');
	const auth = new RequestAuthenticator({ users });
	const isRoom = (n: string): boolean => n === '1000';

	function credentials(user: string, password: string, to: string): string {
		const rejected = new InviteAuthPolicy({ auth, isRoom, authenticateRoomCalls: true }).authenticateInvite(invite({ from: 'stranger', to: '1000' }));
		assert.equal(rejected.ok, false);
		const challenge = rejected.ok ? '' : (rejected.reject.headers.find(([n]) => n === 'proxy-authenticate')?.[1] ?? '');
		return buildAuthorization({ challenge, username: user, password, method: 'INVITE', uri: `sip:${to}@127.0.0.1`, nc: 1 });
	}

	it('lets strangers call rooms and challenges callers claiming a user', () => {
		const policy = new InviteAuthPolicy({ auth, isRoom, authenticateRoomCalls: false });
		assert.deepEqual(policy.authenticateInvite(invite({ from: '+4930123', to: '1000' })), { ok: true });
		const challenged = policy.authenticateInvite(invite({ from: '2001', to: '1000' }));
		assert.equal(challenged.ok, false);
		if (!challenged.ok) {
			assert.equal(challenged.reject.status, 407);
			assert.deepEqual(
				challenged.reject.headers.map(([n, v]) => [n, /algorithm=([\w-]+)/.exec(v)?.[1]]),
				[
					['proxy-authenticate', 'SHA-256'],
					['proxy-authenticate', 'MD5'],
				],
			);
		}
		const ok = policy.authenticateInvite(invite({ from: '2001', to: '1000', auth: credentials('2001', 'pw1', '1000') }));
		assert.equal(ok.ok && ok.user?.extension, '2001');
		const wrongUser = policy.authenticateInvite(invite({ from: '2001', to: '1000', auth: credentials('2002', 'pw2', '1000') }));
		assert.equal(wrongUser.ok ? 200 : wrongUser.reject.status, 403);
		const wrongPassword = policy.authenticateInvite(invite({ from: '2001', to: '1000', auth: credentials('2001', 'nope', '1000') }));
		assert.equal(wrongPassword.ok ? 200 : wrongPassword.reject.status, 403);
	});

	it('with authenticateRoomCalls challenges everyone calling a room', () => {
		const policy = new InviteAuthPolicy({ auth, isRoom, authenticateRoomCalls: true });
		const r = policy.authenticateInvite(invite({ from: 'stranger', to: '1000' }));
		assert.equal(r.ok ? 200 : r.reject.status, 407);
		assert.deepEqual(policy.authenticateInvite(invite({ from: 'stranger', to: '5555' })), { ok: true }, 'not a room: the dial plan decides');
		const ok = policy.authenticateInvite(invite({ from: 'stranger', to: '1000', auth: credentials('2002', 'pw2', '1000') }));
		assert.equal(ok.ok && ok.user?.extension, '2002');
	});
});
