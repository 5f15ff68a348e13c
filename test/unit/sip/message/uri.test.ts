import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SipParseError } from '../../../../src/common/errors.js';
import { formatUri, parseUri, type SipUri } from '../../../../src/sip/message/index.js';

function bad(text: string, message: string): void {
	assert.throws(() => parseUri(text), (err: unknown) => err instanceof SipParseError && err.message === message, `${text} → ${message}`);
}

describe('parseUri', () => {
	it('parses a plain sip URI', () => {
		assert.deepEqual(parseUri('sip:alice@atlanta.example.com'), { scheme: 'sip', user: 'alice', host: 'atlanta.example.com', params: {}, headers: {} });
	});

	it('parses sips with password, port, params, flags and headers', () => {
		const u = parseUri('SIPS:alice:secretword@gateway.example.com:5061;Transport=TCP;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent');
		const want: SipUri = {
			scheme: 'sips',
			user: 'alice',
			password: 'secretword',
			host: 'gateway.example.com',
			port: 5061,
			params: { transport: 'TCP', lr: null, maddr: '239.255.255.1' },
			headers: { subject: 'project x', priority: 'urgent' },
		};
		assert.deepEqual(u, want);
	});

	it('parses a host-only URI and an IPv4 host with port', () => {
		assert.deepEqual(parseUri('sip:example.com'), { scheme: 'sip', host: 'example.com', params: {}, headers: {} });
		const u = parseUri('sip:+12125551212@192.0.2.4:5080;user=phone');
		assert.equal(u.user, '+12125551212');
		assert.equal(u.host, '192.0.2.4');
		assert.equal(u.port, 5080);
		assert.deepEqual(u.params, { user: 'phone' });
	});

	it('keeps IPv6 references bracketed (RFC 5118)', () => {
		const u = parseUri('sip:bob@[2001:db8::9:1]:5070;transport=tcp');
		assert.equal(u.host, '[2001:db8::9:1]');
		assert.equal(u.port, 5070);
		assert.equal(parseUri('sip:[::ffff:192.0.2.1]').host, '[::ffff:192.0.2.1]');
		assert.equal(parseUri('sips:[2001:db8::1]').port, undefined);
	});

	it('unescapes user, params and headers', () => {
		assert.equal(parseUri('sip:I%20have%20spaces@example.net').user, 'I have spaces');
		assert.equal(parseUri('sip:%61lice@example.net').user, 'alice');
		assert.equal(parseUri('sip:j%C3%BCrgen@example.de').user, 'jürgen');
		// Escaped nulls are legal (RFC 4475 escnull).
		assert.equal(parseUri('sip:null-%00-null@example.com').user, 'null-\u0000-null');
		// Not UTF-8: one char per byte, nothing lost.
		assert.equal(parseUri('sip:%FF%FE@example.com').user, '\u00ff\u00fe');
		const u = parseUri('sip:user@example.com;%6C%72;n%61me=v%61lue%25%34%31');
		assert.deepEqual(u.params, { lr: null, name: 'value%41' });
	});

	it('allows ; ? / in the user part (telephone-subscriber)', () => {
		const u = parseUri('sip:+1-212-555-1212;phone-context=example.com@gw.example.com;user=phone');
		assert.equal(u.user, '+1-212-555-1212;phone-context=example.com');
		assert.equal(u.host, 'gw.example.com');
		assert.deepEqual(u.params, { user: 'phone' });
	});

	it('parses tel URIs with the number in user', () => {
		const g = parseUri('tel:+1-201-555-0123');
		assert.deepEqual(g, { scheme: 'tel', user: '+1-201-555-0123', host: '', params: {}, headers: {} });
		const l = parseUri('tel:7042;phone-context=example.com;ext=22');
		assert.equal(l.user, '7042');
		assert.deepEqual(l.params, { 'phone-context': 'example.com', ext: '22' });
		assert.equal(parseUri('tel:*21#').user, '*21#');
	});

	it('keeps the first of repeated params and ignores __proto__', () => {
		const u = parseUri('sip:a@b.example;x=1;X=2;__proto__=evil');
		assert.deepEqual(u.params, { x: '1' });
		assert.equal(Object.getPrototypeOf(u.params), Object.prototype);
	});

	it('rejects unsupported schemes and malformed URIs', () => {
		bad('http://example.com/', 'Unsupported URI scheme');
		bad('urn:service:sos', 'Unsupported URI scheme');
		bad('example.com', 'Malformed URI');
		bad(':x', 'Malformed URI');
		bad('s p:x', 'Malformed URI');
		bad('sip:', 'Malformed URI host');
		bad('sip:user@', 'Malformed URI host');
		bad('sip:@example.com', 'Malformed URI user');
		bad('sip:us er@example.com', 'Malformed URI user');
		bad('sip:user%2@example.com', 'Malformed URI user');
		bad('sip:user%zz@example.com', 'Malformed URI user');
		bad('sip:user:pa@ss@example.com', 'Malformed URI');
		bad('sip:ex ample.com', 'Malformed URI');
		bad('sip:bad_host.example.com', 'Malformed URI');
		bad('sip:-host.example.com', 'Malformed URI host');
		bad('sip:host..example.com', 'Malformed URI host');
		bad('sip:host:', 'Malformed URI port');
		bad('sip:host:65536', 'Malformed URI port');
		bad('sip:host:123456', 'Malformed URI port');
		bad('sip:[2001:db8::1', 'Malformed URI host');
		bad('sip:[example.com]', 'Malformed URI host');
		bad('sip:[]', 'Malformed URI host');
		bad('sip:host;=x', 'Malformed URI parameter');
		bad('sip:host;x=', 'Malformed URI parameter');
		bad('sip:host;x y=1', 'Malformed URI parameter');
		bad('sip:host;', 'Malformed URI parameter');
		bad('sip:host?noequals', 'Malformed URI header');
		bad('sip:host?a=1&', 'Malformed URI header');
		bad('sip:host>', 'Malformed URI');
		bad('tel:', 'Malformed tel URI');
		bad('tel:+', 'Malformed tel URI');
		bad('tel:12+3', 'Malformed tel URI');
		bad('tel:123?x=1', 'Malformed tel URI');
		bad('tel:12 3', 'Malformed tel URI');
	});
});

describe('formatUri', () => {
	for (const text of [
		'sip:alice@atlanta.example.com',
		'sips:alice:secretword@gateway.example.com:5061;transport=TCP;lr?subject=project%20x&priority=urgent',
		'sip:bob@[2001:db8::9:1]:5070;transport=tcp',
		'sip:I%20have%20spaces@example.net',
		'sip:+1-212-555-1212;phone-context=example.com@gw.example.com;user=phone',
		'sip:conf.example.com;maddr=[2001:db8::1]',
		'tel:+1-201-555-0123',
		'tel:7042;phone-context=example.com',
	]) {
		it(`round-trips ${text}`, () => {
			assert.equal(formatUri(parseUri(text)), text);
		});
	}

	it('normalises escapes: unreserved chars plain, others %XX upper-case', () => {
		assert.equal(formatUri(parseUri('sip:%61lice%3a@example.net;%6C%72')), 'sip:alice%3A@example.net;lr');
	});

	it('escapes what a user part cannot hold, UTF-8 included', () => {
		const u: SipUri = { scheme: 'sip', user: 'a b@c:jürgen%', host: 'example.com', params: { 'x y': 'v<>' }, headers: { Replaces: 'id@host;to-tag=1' } };
		const text = formatUri(u);
		assert.equal(text, 'sip:a%20b%40c%3Aj%C3%BCrgen%25@example.com;x%20y=v%3C%3E?Replaces=id%40host%3Bto-tag%3D1');
		assert.deepEqual(parseUri(text), u);
	});
});
