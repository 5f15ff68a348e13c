import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SipParseError } from '../../../../src/common/errors.js';
import {
	SipHeaders,
	formatCSeq,
	formatNameAddr,
	formatVia,
	generateBranch,
	generateCallId,
	generateTag,
	getVias,
	parseCSeq,
	parseNameAddr,
	parseParams,
	parseVia,
	splitHeaderList,
	type SipRequest,
} from '../../../../src/sip/message/index.js';

function throwsParse(fn: () => unknown, message?: string): void {
	assert.throws(fn, (err: unknown) => err instanceof SipParseError && (message === undefined || err.message === message));
}

describe('parseNameAddr', () => {
	it('reads a quoted display name with escapes', () => {
		const na = parseNameAddr('"Mr. \\"Big\\" \\\\ Boss" <sip:boss@example.com;transport=tcp>;tag=a1b2');
		assert.equal(na.displayName, 'Mr. "Big" \\ Boss');
		assert.equal(na.uriText, 'sip:boss@example.com;transport=tcp');
		assert.deepEqual(na.uri.params, { transport: 'tcp' });
		assert.deepEqual(na.params, { tag: 'a1b2' });
	});

	it('reads token display names, with or without LWS before <', () => {
		assert.equal(parseNameAddr('Joe Bob Briggs <sip:joe@example.com>').displayName, 'Joe Bob Briggs');
		assert.equal(parseNameAddr('caller<sip:caller@example.com>').displayName, 'caller');
		assert.equal(parseNameAddr('Jürgen <sip:j@example.de>').displayName, 'Jürgen');
		assert.equal(parseNameAddr('<sip:anon@example.com>').displayName, undefined);
		assert.equal(parseNameAddr('"" <sip:anon@example.com>').displayName, '');
	});

	it('gives addr-spec parameters to the header, not the URI', () => {
		const na = parseNameAddr('sip:alice@example.com;tag=88sja8x;expires=60');
		assert.equal(na.uriText, 'sip:alice@example.com');
		assert.deepEqual(na.uri.params, {});
		assert.deepEqual(na.params, { tag: '88sja8x', expires: '60' });
		assert.equal(na.displayName, undefined);
	});

	it('keeps URI params inside <> and header params outside apart', () => {
		const na = parseNameAddr('<sip:proxy.example.com;lr;ftag=x>;q=0.7;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"');
		assert.deepEqual(na.uri.params, { lr: null, ftag: 'x' });
		assert.deepEqual(na.params, { q: '0.7', '+sip.instance': '"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"' });
	});

	it('allows LWS around ; and =', () => {
		const na = parseNameAddr('  <sip:a@example.com>  ;  tag = 12 ;  flag  ');
		assert.deepEqual(na.params, { tag: '12', flag: null });
	});

	it('reads tel URIs', () => {
		const na = parseNameAddr('<tel:+15551234567>;tag=9');
		assert.equal(na.uri.scheme, 'tel');
		assert.equal(na.uri.user, '+15551234567');
	});

	it('rejects malformed addresses', () => {
		throwsParse(() => parseNameAddr('"unterminated <sip:a@example.com>'), 'Unterminated display name');
		throwsParse(() => parseNameAddr('"Name" sip:a@example.com'), 'Malformed address');
		throwsParse(() => parseNameAddr('<sip:a@example.com'), 'Malformed address');
		throwsParse(() => parseNameAddr('<sip:a@example.com> junk'), 'Malformed address');
		throwsParse(() => parseNameAddr(''), 'Malformed address');
		throwsParse(() => parseNameAddr('<sip:a@example.com>;tag='), 'Malformed parameter');
		throwsParse(() => parseNameAddr('<sip:a@example.com>;tag="x'), 'Unterminated quoted string');
		throwsParse(() => parseNameAddr('<http://example.com>'), 'Unsupported URI scheme');
		throwsParse(() => parseNameAddr('*'), 'Malformed URI');
	});

	it('formats in <> form and reads back the same', () => {
		const text = '"A \\"quoted\\" name" <sip:a%20b@example.com;lr>;tag=1;flag';
		const na = parseNameAddr(text);
		assert.equal(formatNameAddr(na), text);
		const spec = parseNameAddr('sip:alice@example.com;tag=x');
		assert.equal(formatNameAddr(spec), '<sip:alice@example.com>;tag=x');
	});
});

describe('parseVia', () => {
	it('reads protocol, transport, host, port and the routing params', () => {
		const [v, ...rest] = parseVia('SIP/2.0/udp pc33.example.com:5066;branch=z9hG4bK776asdhds;received=192.0.2.1;rport;maddr=224.2.0.1;ttl=16');
		assert.equal(rest.length, 0);
		assert.deepEqual(v, {
			protocol: 'SIP/2.0',
			transport: 'UDP',
			host: 'pc33.example.com',
			port: 5066,
			params: { branch: 'z9hG4bK776asdhds', received: '192.0.2.1', rport: null, maddr: '224.2.0.1', ttl: '16' },
		});
	});

	it('splits comma-separated via-parms and allows LWS everywhere the grammar does', () => {
		const vias = parseVia('SIP / 2.0 / TCP  a.example.com : 5061 ; branch = z9hG4bK1 ,SIP/2.0/WSS b.example.com;branch=z9hG4bK2;rport=5062');
		assert.equal(vias.length, 2);
		assert.equal(vias[0]!.host, 'a.example.com');
		assert.equal(vias[0]!.port, 5061);
		assert.equal(vias[0]!.params['branch'], 'z9hG4bK1');
		assert.equal(vias[1]!.transport, 'WSS');
		assert.equal(vias[1]!.params['rport'], '5062');
	});

	it('reads IPv6 hosts and unbracketed IPv6 in received (RFC 5118)', () => {
		const [v] = parseVia('SIP/2.0/UDP [2001:db8::9:1]:5060;branch=z9hG4bKas3;received=2001:db8::9:255');
		assert.equal(v!.host, '[2001:db8::9:1]');
		assert.equal(v!.port, 5060);
		assert.equal(v!.params['received'], '2001:db8::9:255');
	});

	it('rejects malformed values', () => {
		for (const bad of ['', 'SIP/2.0 host', 'SIP/2.0/UDP', 'SIP/2.0/UDP ', 'SIP/2.0/UDPhost', 'SIP/2.0/UDP host:', 'SIP/2.0/UDP host:70000', 'SIP/2.0/UDP host;', 'SIP/2.0/UDP host,', 'SIP/2.0/UDP host junk', 'SIP/2.0/UDP [::1', 'SIP/2.0/UDP host;ttl=256', 'SIP/2.0/UDP host;rport=x', 'SIP/2.0/UDP host;branch', 'SIP/2.0/UDP host;branch="a b"']) {
			throwsParse(() => parseVia(bad));
		}
	});

	it('formats back to an equivalent value', () => {
		const text = 'SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bKx;rport;received=2001:db8::2';
		assert.equal(formatVia(parseVia(text)[0]!), text);
		const loose = parseVia('SIP / 2.0 / udp host.example.com ; branch = z9hG4bKy')[0]!;
		assert.equal(formatVia(loose), 'SIP/2.0/UDP host.example.com;branch=z9hG4bKy');
	});

	it('getVias collects every via-parm of every Via header, top first', () => {
		const headers = new SipHeaders().append('Via', 'SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/UDP b.example.com;branch=z9hG4bK2').append('From', '<sip:x@y.example>').append('v', 'SIP/2.0/TCP c.example.com;branch=z9hG4bK3');
		const req: SipRequest = { kind: 'request', method: 'OPTIONS', uri: 'sip:x@y.example', version: 'SIP/2.0', headers, body: Buffer.alloc(0) };
		// SipHeaders.append does not map compact forms; only 'via' counts.
		assert.deepEqual(
			getVias(req).map((v) => v.host),
			['a.example.com', 'b.example.com'],
		);
	});
});

describe('parseCSeq', () => {
	it('reads number and method', () => {
		assert.deepEqual(parseCSeq('4711 INVITE'), { seq: 4711, method: 'INVITE' });
		assert.deepEqual(parseCSeq('  0009 \t  ACK '), { seq: 9, method: 'ACK' });
		assert.deepEqual(parseCSeq('2147483647 BYE'), { seq: 2147483647, method: 'BYE' });
		assert.equal(formatCSeq({ seq: 12, method: 'REFER' }), '12 REFER');
	});

	it('rejects malformed values', () => {
		for (const bad of ['', 'INVITE', '1', '1INVITE', 'x INVITE', '2147483648 INVITE', '1 INVITE BYE', '1 IN/VITE', '-1 INVITE']) {
			throwsParse(() => parseCSeq(bad), 'Malformed CSeq');
		}
	});
});

describe('splitHeaderList', () => {
	it('splits at commas outside quotes and <>', () => {
		assert.deepEqual(splitHeaderList('"Doe, John" <sip:jd@example.com;x=a,b>;q=0.5 , <sip:other@example.com>,sip:third@example.com'), ['"Doe, John" <sip:jd@example.com;x=a,b>;q=0.5', '<sip:other@example.com>', 'sip:third@example.com']);
		assert.deepEqual(splitHeaderList('INVITE, ACK,,BYE ,'), ['INVITE', 'ACK', 'BYE']);
		assert.deepEqual(splitHeaderList('"esc \\" , quote", b'), ['"esc \\" , quote"', 'b']);
		assert.deepEqual(splitHeaderList(''), []);
	});
});

describe('parseParams', () => {
	it('reads flags, tokens, hosts and quoted values', () => {
		assert.deepEqual(parseParams(';Tag=abc ; lr;maddr=[2001:db8::1];  methods="INVITE, BYE"'), { tag: 'abc', lr: null, maddr: '[2001:db8::1]', methods: '"INVITE, BYE"' });
		assert.deepEqual(parseParams(''), {});
		throwsParse(() => parseParams('tag=abc'), 'Malformed parameter');
		throwsParse(() => parseParams(';a=b c'), 'Malformed parameter');
	});
});

describe('identifiers', () => {
	it('generateBranch carries the magic cookie and is unique', () => {
		const seen = new Set<string>();
		for (let i = 0; i < 1000; i++) {
			const b = generateBranch();
			assert.match(b, /^z9hG4bK[0-9a-f]{16}$/);
			seen.add(b);
		}
		assert.equal(seen.size, 1000);
	});

	it('generateTag and generateCallId are random tokens', () => {
		assert.match(generateTag(), /^[0-9a-f]{16}$/);
		assert.notEqual(generateTag(), generateTag());
		assert.match(generateCallId('192.0.2.1'), /^[0-9a-f]{24}@192\.0\.2\.1$/);
		assert.match(generateCallId(), /^[0-9a-f]{24}$/);
	});
});
