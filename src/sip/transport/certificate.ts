/**
 * Certificates for SIP over TLS and secure WebSockets. A configured PEM pair
 * is used as given. Without one, a self-signed development pair is made once
 * and cached as one PEM file (key, then certificate) under the OS temp dir or
 * a chosen directory:
 *
 * 1. a cached pair that still parses, matches and is valid for another day;
 * 2. else `openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=confsrv`
 *    when an `openssl` binary runs (spawned directly: a missing binary is
 *    ENOENT, which is the `command -v openssl` check without a shell);
 * 3. else node:crypto: an RSA-2048 key and a minimal DER-encoded X.509 v3
 *    certificate signed with it (the same subject and lifetime), so no
 *    external tool is ever required.
 *
 * The pair is written to a temp name and renamed into place, so servers
 * starting at once never read half a file or a key of another certificate.
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, generateKeyPair, randomBytes, sign, X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { childLogger } from '../../common/logger.js';

const log = childLogger({ mod: 'sip.tls' });

const execFileAsync = promisify(execFile);

export const DEV_COMMON_NAME = 'confsrv';
const DEV_DAYS = 365;
const CACHE_FILE = 'confsrv-dev-cert.pem';
const DAY_MS = 86_400_000;

/** A PEM certificate (chain) and its private key. */
export interface CertificatePair {
	cert: string | Buffer;
	key: string | Buffer;
}

export interface DevCertificateOptions {
	/** Where the pair is cached; default `<os tmpdir>/confsrv`. */
	dir?: string;
	/** The openssl binary; default 'openssl'; false skips it and uses node:crypto. */
	openssl?: string | false;
}

export type DevCertificateSource = 'cache' | 'openssl' | 'node';

/**
 * The configured pair when both halves are given; throws TypeError for half a
 * pair; otherwise the development pair (with a warning in the log).
 */
export async function resolveCertificate(given: Partial<CertificatePair>, opts: DevCertificateOptions = {}): Promise<CertificatePair> {
	if (given.cert !== undefined && given.key !== undefined) {
		return { cert: given.cert, key: given.key };
	}
	if (given.cert !== undefined || given.key !== undefined) {
		throw new TypeError('TLS needs both cert and key (PEM), or neither for a development certificate');
	}
	const dev = await devCertificate(opts);
	log.warn(
		{ source: dev.source, file: dev.file },
		'TLS is using a self-signed DEVELOPMENT certificate (CN=confsrv); clients will not trust it. Configure a real cert and key for production',
	);
	return { cert: dev.cert, key: dev.key };
}

/** Loads the cached development pair or makes (and caches) a new one. */
export async function devCertificate(opts: DevCertificateOptions = {}): Promise<CertificatePair & { source: DevCertificateSource; file: string | undefined }> {
	const dir = opts.dir ?? path.join(os.tmpdir(), 'confsrv');
	const file = path.join(dir, CACHE_FILE);
	const cached = await readPair(file);
	if (cached) {
		return { ...cached, source: 'cache', file };
	}
	let pair: CertificatePair | undefined;
	let source: DevCertificateSource = 'openssl';
	if (opts.openssl !== false) {
		pair = await opensslPair(opts.openssl ?? 'openssl');
	}
	if (!pair) {
		source = 'node';
		pair = await selfSignedCertificate(DEV_COMMON_NAME, DEV_DAYS);
	}
	try {
		await mkdir(dir, { recursive: true, mode: 0o700 });
		const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
		await writeFile(tmp, `${String(pair.key).trim()}\n${String(pair.cert).trim()}\n`, { mode: 0o600 });
		await rename(tmp, file);
		return { ...pair, source, file };
	} catch (err) {
		log.warn({ err, dir }, 'could not cache the development certificate; using it from memory');
		return { ...pair, source, file: undefined };
	}
}

/** Splits a cached PEM file; undefined when missing, unreadable, mismatched or about to expire. */
async function readPair(file: string): Promise<CertificatePair | undefined> {
	let text: string;
	try {
		text = await readFile(file, 'utf8');
	} catch {
		return undefined;
	}
	const key = /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----[\s\S]+?-----END \1PRIVATE KEY-----/.exec(text)?.[0];
	const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text)?.[0];
	if (!key || !cert) {
		return undefined;
	}
	try {
		const x509 = new X509Certificate(cert);
		if (Date.parse(x509.validTo) - Date.now() < DAY_MS || !x509.checkPrivateKey(createPrivateKey(key))) {
			return undefined;
		}
	} catch {
		return undefined;
	}
	return { cert: cert + '\n', key: key + '\n' };
}

/** Runs openssl in a private temp dir; undefined when it is missing or fails. */
async function opensslPair(bin: string): Promise<CertificatePair | undefined> {
	const tmp = await mkdtemp(path.join(os.tmpdir(), 'confsrv-openssl-'));
	const keyFile = path.join(tmp, 'key.pem');
	const certFile = path.join(tmp, 'cert.pem');
	try {
		const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', String(DEV_DAYS), '-subj', `/CN=${DEV_COMMON_NAME}`, '-keyout', keyFile, '-out', certFile];
		await execFileAsync(bin, args, { timeout: 30_000 });
		const [key, cert] = await Promise.all([readFile(keyFile, 'utf8'), readFile(certFile, 'utf8')]);
		return { key, cert };
	} catch (err) {
		const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
		log.info({ err: missing ? undefined : err, bin }, missing ? 'openssl not found; generating the development certificate with node:crypto' : 'openssl failed; generating the development certificate with node:crypto');
		return undefined;
	} finally {
		await rm(tmp, { recursive: true, force: true });
	}
}

// --- A minimal DER encoder, just enough for one self-signed certificate. ---

function der(tag: number, content: Buffer): Buffer {
	const n = content.length;
	if (n < 0x80) {
		return Buffer.concat([Buffer.from([tag, n]), content]);
	}
	const len: number[] = [];
	for (let v = n; v > 0; v = Math.floor(v / 256)) {
		len.unshift(v & 0xff);
	}
	return Buffer.concat([Buffer.from([tag, 0x80 | len.length, ...len]), content]);
}

const seq = (...parts: Buffer[]): Buffer => der(0x30, Buffer.concat(parts));

function oid(dotted: string): Buffer {
	const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
	const out = [40 * a + b];
	for (const v of rest) {
		const bytes = [v & 0x7f];
		for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) {
			bytes.unshift(0x80 | (x & 0x7f));
		}
		out.push(...bytes);
	}
	return der(0x06, Buffer.from(out));
}

/** A non-negative INTEGER from big-endian bytes. */
function uint(bytes: Buffer): Buffer {
	return der(0x02, (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

/** UTCTime until 2049, GeneralizedTime after (RFC 5280 §4.1.2.5). */
function time(d: Date): Buffer {
	const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'; // YYYYMMDDHHMMSSZ
	return d.getUTCFullYear() < 2050 ? der(0x17, Buffer.from(iso.slice(2), 'latin1')) : der(0x18, Buffer.from(iso, 'latin1'));
}

const SHA256_WITH_RSA = seq(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00]));

/**
 * A self-signed X.509 v3 certificate (RSA-2048, SHA-256, subject = issuer =
 * CN=commonName, no extensions) built with node:crypto alone.
 */
export async function selfSignedCertificate(commonName: string, days: number): Promise<CertificatePair> {
	const { publicKey, privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
	const name = seq(der(0x31, seq(oid('2.5.4.3'), der(0x0c, Buffer.from(commonName, 'utf8')))));
	const serial = randomBytes(16);
	// Positive and without a leading zero byte, as DER wants.
	serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
	const now = Date.now();
	const tbs = seq(
		der(0xa0, uint(Buffer.from([2]))), // [0] EXPLICIT version v3
		uint(serial),
		SHA256_WITH_RSA,
		name,
		seq(time(new Date(now - 60_000)), time(new Date(now + days * DAY_MS))),
		name,
		publicKey.export({ type: 'spki', format: 'der' }),
	);
	const signature = sign('sha256', tbs, privateKey);
	const certDer = seq(tbs, SHA256_WITH_RSA, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
	const b64 = certDer.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
	return {
		cert: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`,
		key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
	};
}
