import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { devCertificate, resolveCertificate, selfSignedCertificate } from '../../../../src/sip/transport/certificate.js';

const DAY = 86_400_000;

function check(pair: { cert: string | Buffer; key: string | Buffer }, cn: string, days: number): X509Certificate {
	const x = new X509Certificate(pair.cert);
	assert.equal(x.subject, `CN=${cn}`);
	assert.equal(x.issuer, `CN=${cn}`);
	assert.ok(x.checkPrivateKey(createPrivateKey(pair.key)), 'the key belongs to the certificate');
	assert.ok(x.verify(x.publicKey), 'self-signed: its own key verifies it');
	const left = Date.parse(x.validTo) - Date.now();
	assert.ok(left > (days - 1) * DAY && left <= days * DAY + 60_000, `valid for about ${days} days`);
	assert.ok(Date.parse(x.validFrom) <= Date.now());
	return x;
}

describe('selfSignedCertificate (node:crypto, no openssl)', () => {
	it('builds a DER certificate that parses, matches its key and verifies', async () => {
		const pair = await selfSignedCertificate('confsrv', 365);
		assert.match(String(pair.cert), /^-----BEGIN CERTIFICATE-----\n(?:[A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END CERTIFICATE-----\n$/);
		const x = check(pair, 'confsrv', 365);
		assert.equal(x.publicKey.asymmetricKeyType, 'rsa');
		assert.equal(x.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
		assert.ok(/^[0-9A-F]+$/.test(x.serialNumber));
	});

	it('encodes a long common name (multi-byte DER lengths) and a far expiry (GeneralizedTime)', async () => {
		const cn = 'c'.repeat(150);
		const pair = await selfSignedCertificate(cn, 365 * 40);
		const x = check(pair, cn, 365 * 40);
		assert.ok(new Date(x.validTo).getUTCFullYear() >= 2050);
	});
});

describe('devCertificate', () => {
	let dir: string;

	before(async () => {
		dir = await mkdtemp(path.join(os.tmpdir(), 'confsrv-cert-unit-'));
	});

	after(async () => {
		await rm(dir, { recursive: true, force: true });
	});

	it('makes a pair with openssl when there is one, caches it, and reuses the cache', async (t) => {
		const sub = path.join(dir, 'openssl');
		const first = await devCertificate({ dir: sub });
		// Where openssl is missing the node:crypto path stands in; both are fine.
		assert.ok(first.source === 'openssl' || first.source === 'node');
		check(first, 'confsrv', 365);
		assert.ok(first.file);
		assert.equal((await stat(first.file)).mode & 0o077, 0, 'the cached key is private to its owner');
		const again = await devCertificate({ dir: sub });
		assert.equal(again.source, 'cache');
		assert.equal(new X509Certificate(again.cert).fingerprint256, new X509Certificate(first.cert).fingerprint256);
		if (first.source !== 'openssl') {
			t.diagnostic('openssl is not on this machine');
		}
	});

	it('falls back to node:crypto when openssl is missing or disabled', async () => {
		const missing = await devCertificate({ dir: path.join(dir, 'missing'), openssl: path.join(dir, 'no-such-openssl') });
		assert.equal(missing.source, 'node');
		check(missing, 'confsrv', 365);
		const disabled = await devCertificate({ dir: path.join(dir, 'disabled'), openssl: false });
		assert.equal(disabled.source, 'node');
	});

	it('replaces a cached file that is broken or does not match its key', async () => {
		const sub = path.join(dir, 'broken');
		const good = await devCertificate({ dir: sub, openssl: false });
		const other = await selfSignedCertificate('confsrv', 365);
		await writeFile(good.file!, `${String(other.key)}${String(good.cert)}`);
		const replaced = await devCertificate({ dir: sub, openssl: false });
		assert.equal(replaced.source, 'node');
		await writeFile(good.file!, 'garbage');
		const again = await devCertificate({ dir: sub, openssl: false });
		assert.equal(again.source, 'node');
		check({ cert: await readFile(again.file!, 'utf8'), key: await readFile(again.file!, 'utf8') }, 'confsrv', 365);
	});

	it('uses the pair from memory when the cache directory cannot be written', async () => {
		const blocker = path.join(dir, 'a-file');
		await writeFile(blocker, '');
		const pair = await devCertificate({ dir: path.join(blocker, 'sub'), openssl: false });
		assert.equal(pair.file, undefined);
		check(pair, 'confsrv', 365);
	});
});

describe('resolveCertificate', () => {
	it('passes a configured pair through and refuses half a pair', async () => {
		const given = { cert: 'CERT', key: 'KEY' };
		assert.deepEqual(await resolveCertificate(given), given);
		await assert.rejects(resolveCertificate({ cert: 'CERT' }), TypeError);
		await assert.rejects(resolveCertificate({ key: 'KEY' }), TypeError);
	});
});
