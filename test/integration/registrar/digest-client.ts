/**
 * The tests' own digest client (RFC 7616 / RFC 8760 with qop=auth), written
 * on node:crypto and nothing from src/, so a bug in sip/auth cannot cancel
 * itself out; and a few raw-SIP helpers for REGISTER over UDP and TCP.
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';

export type Algorithm = 'MD5' | 'SHA-256';

export interface Challenge {
	realm: string;
	nonce: string;
	algorithm: Algorithm;
	qop: string | undefined;
	opaque: string | undefined;
	stale: boolean;
}

/** Parses one WWW-Authenticate / Proxy-Authenticate value (quoted or bare params). */
export function parseChallenge(value: string): Challenge {
	const m = /^\s*Digest\s+(.*)$/is.exec(value);
	if (!m) {
		throw new Error(`not a digest challenge: ${value}`);
	}
	const params: Record<string, string> = {};
	const re = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
	for (const p of (m[1] ?? '').matchAll(re)) {
		params[(p[1] ?? '').toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
	}
	const algorithm = (params['algorithm'] ?? 'MD5').toUpperCase();
	if (algorithm !== 'MD5' && algorithm !== 'SHA-256') {
		throw new Error(`unexpected algorithm ${algorithm}`);
	}
	return {
		realm: params['realm'] ?? '',
		nonce: params['nonce'] ?? '',
		algorithm,
		qop: params['qop'],
		opaque: params['opaque'],
		stale: (params['stale'] ?? '').toLowerCase() === 'true',
	};
}

function hash(algorithm: Algorithm, s: string): string {
	return createHash(algorithm === 'MD5' ? 'md5' : 'sha256').update(s).digest('hex');
}

/** An Authorization / Proxy-Authorization value answering `c` (qop=auth). */
export function digestAuthorization(c: Challenge, o: { username: string; password: string; method: string; uri: string; nc?: number; cnonce?: string }): string {
	const nc = (o.nc ?? 1).toString(16).padStart(8, '0');
	const cnonce = o.cnonce ?? randomBytes(8).toString('hex');
	const ha1 = hash(c.algorithm, `${o.username}:${c.realm}:${o.password}`);
	const ha2 = hash(c.algorithm, `${o.method}:${o.uri}`);
	const response = hash(c.algorithm, `${ha1}:${c.nonce}:${nc}:${cnonce}:auth:${ha2}`);
	const parts = [`username="${o.username}"`, `realm="${c.realm}"`, `nonce="${c.nonce}"`, `uri="${o.uri}"`, `response="${response}"`, `algorithm=${c.algorithm}`, `cnonce="${cnonce}"`, 'qop=auth', `nc=${nc}`];
	if (c.opaque !== undefined) {
		parts.push(`opaque="${c.opaque}"`);
	}
	return 'Digest ' + parts.join(', ');
}

export interface RegisterText {
	serverPort: number;
	transport: 'UDP' | 'TCP';
	/** Via sent-by (may be a private address: the server must answer the real source). */
	sentBy: string;
	user: string;
	callId: string;
	cseq: number;
	branch: string;
	contacts?: string[];
	expires?: number;
	authorization?: string;
}

export function registerText(o: RegisterText): string {
	const lines = [
		`REGISTER sip:127.0.0.1:${o.serverPort} SIP/2.0`,
		`Via: SIP/2.0/${o.transport} ${o.sentBy};branch=${o.branch};rport`,
		'Max-Forwards: 70',
		`From: <sip:${o.user}@127.0.0.1>;tag=t${o.callId.slice(0, 6)}`,
		`To: <sip:${o.user}@127.0.0.1>`,
		`Call-ID: ${o.callId}`,
		`CSeq: ${o.cseq} REGISTER`,
		...(o.contacts ?? []).map((c) => `Contact: ${c}`),
		...(o.expires !== undefined ? [`Expires: ${o.expires}`] : []),
		...(o.authorization !== undefined ? [`Authorization: ${o.authorization}`] : []),
		'User-Agent: registrar-test',
		'Content-Length: 0',
		'',
		'',
	];
	return lines.join('\r\n');
}

export interface RawResponse {
	status: number;
	text: string;
	headers: Array<[string, string]>;
}

/** Headers of a raw message, names lower-cased, comma lists left as they are. */
export function parseRaw(text: string): RawResponse {
	const [head = ''] = text.split('\r\n\r\n');
	const [start = '', ...lines] = head.split('\r\n');
	const status = Number(/^SIP\/2\.0 (\d{3})/.exec(start)?.[1] ?? 0);
	const headers: Array<[string, string]> = [];
	for (const l of lines) {
		const i = l.indexOf(':');
		if (i > 0) {
			headers.push([l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()]);
		}
	}
	return { status, text, headers };
}

export function headerValues(r: RawResponse, name: string): string[] {
	return r.headers.filter(([n]) => n === name).map(([, v]) => v);
}

/** A SIP-over-TCP client with Content-Length framing. */
export class TcpSipClient {
	readonly socket: net.Socket;
	readonly received: RawResponse[] = [];
	#buf = '';
	#waiters: Array<() => void> = [];

	static connect(port: number): Promise<TcpSipClient> {
		return new Promise((resolve, reject) => {
			const s = net.connect(port, '127.0.0.1', () => {
				s.off('error', reject);
				resolve(new TcpSipClient(s));
			});
			s.once('error', reject);
		});
	}

	private constructor(socket: net.Socket) {
		this.socket = socket;
		socket.setEncoding('utf8');
		socket.on('error', () => {});
		socket.on('data', (d: string) => {
			this.#buf += d;
			for (;;) {
				const end = this.#buf.indexOf('\r\n\r\n');
				if (end < 0) {
					break;
				}
				const len = Number(/\r\nContent-Length:\s*(\d+)/i.exec(this.#buf.slice(0, end))?.[1] ?? 0);
				if (this.#buf.length < end + 4 + len) {
					break;
				}
				this.received.push(parseRaw(this.#buf.slice(0, end + 4 + len)));
				this.#buf = this.#buf.slice(end + 4 + len);
			}
			for (const w of this.#waiters.splice(0)) {
				w();
			}
		});
	}

	get localPort(): number {
		return this.socket.localPort ?? 0;
	}

	send(text: string): void {
		this.socket.write(text);
	}

	/** The next final response (status >= 200) after `from` responses. */
	async nextFinal(from: number, timeoutMs = 5000): Promise<RawResponse> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const hit = this.received.slice(from).find((r) => r.status >= 200);
			if (hit) {
				return hit;
			}
			if (Date.now() > deadline) {
				throw new Error('no final response over TCP');
			}
			await new Promise<void>((resolve) => {
				const t = setTimeout(resolve, 50);
				this.#waiters.push(() => {
					clearTimeout(t);
					resolve();
				});
			});
		}
	}

	close(): void {
		this.socket.destroy();
	}
}
