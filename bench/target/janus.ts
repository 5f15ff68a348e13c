/**
 * Janus AudioBridge as the comparison peer (`--target janus`), driven as
 * ../shared/peers/janus-audiobridge.md describes:
 *
 * - its own config folder: only the HTTP transport (bound to 127.0.0.1) and
 *   the AudioBridge plugin, AudioBridge `local_ip = "127.0.0.1"`;
 * - rooms created with `allow_rtp_participants: true` and a sampling rate;
 * - one plugin handle per participant, joined as a plain RTP participant
 *   (`codec`, `rtp: { ip, port, payload_type }`); the `joined` event, read
 *   by long-polling the session, carries Janus's RTP ip and port;
 * - Janus sends the mix only after our first packet, and only to the port we
 *   announced: the generator sends from that same socket.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { nowEpoch } from '../load/generator.js';
import type { CodecName } from '../codec/profiles.js';
import type { JoinRequest, JoinResult, MixerFigures, Target } from './target.js';

export const JANUS_INSTALL_HINT = 'Janus is not installed. On Debian/Ubuntu: apt-get install -y janus';

export function janusInstalled(): boolean {
	try {
		execFileSync('sh', ['-c', 'command -v janus'], { stdio: 'ignore' });
		return true;
	} catch {
		return false;
	}
}

const LIB = '/usr/lib/x86_64-linux-gnu/janus';
const PLUGINS_OFF = ['duktape', 'echotest', 'lua', 'nosip', 'recordplay', 'sip', 'streaming', 'textroom', 'videocall', 'videoroom', 'voicemail'];
const TRANSPORTS_OFF = ['mqtt', 'nanomsg', 'pfunix', 'rabbitmq', 'websockets'];
const EVENTS_OFF = ['gelfevh', 'mqttevh', 'nanomsgevh', 'rabbitmqevh', 'sampleevh', 'wsevh'];

export interface JanusTargetOptions {
	rooms: number;
	codec: CodecName;
	sampleRate: number;
	/** Folder for Janus's config and log. */
	dir: string;
	/** Parallel HTTP requests while joining. Default 16. */
	concurrency?: number;
}

function freeTcpPort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const s = createNetServer();
		s.once('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const addr = s.address();
			const port = typeof addr === 'object' && addr ? addr.port : 0;
			s.close(() => resolve(port));
		});
	});
}

/** Writes a minimal Janus config folder; returns its path. */
export function writeJanusConfig(dir: string, httpPort: number, libDir = LIB): string {
	const conf = join(dir, 'janus-conf');
	mkdirSync(conf, { recursive: true });
	const off = (names: string[], kind: string): string => names.map((n) => `libjanus_${n}.so`).join(',') + (kind ? '' : '');
	writeFileSync(
		join(conf, 'janus.jcfg'),
		`general: {
	configs_folder = "${conf}"
	plugins_folder = "${libDir}/plugins"
	transports_folder = "${libDir}/transports"
	events_folder = "${libDir}/events"
	loggers_folder = "${libDir}/loggers"
	debug_level = 3
	session_timeout = 0
	server_name = "bench"
}
media: {
	rtp_port_range = "40000-60000"
}
nat: {
	ice_ignore_list = "vmnet"
}
plugins: {
	disable = "${off(PLUGINS_OFF, '')}"
}
transports: {
	disable = "${off(TRANSPORTS_OFF, '')}"
}
events: {
	broadcast = false
	disable = "${off(EVENTS_OFF, '')}"
}
loggers: {
	disable = "libjanus_jsonlog.so"
}
`,
	);
	writeFileSync(
		join(conf, 'janus.transport.http.jcfg'),
		`general: {
	json = "plain"
	base_path = "/janus"
	http = true
	port = ${httpPort}
	ip = "127.0.0.1"
	https = false
}
admin: {
	admin_http = false
	admin_https = false
}
cors: {
}
`,
	);
	writeFileSync(
		join(conf, 'janus.plugin.audiobridge.jcfg'),
		`general: {
	local_ip = "127.0.0.1"
	rtp_port_range = "40000-60000"
}
`,
	);
	return conf;
}

interface JanusReply {
	janus: string;
	transaction?: string;
	sender?: number;
	session_id?: number;
	data?: { id?: number };
	error?: { code: number; reason: string };
	plugindata?: { plugin: string; data: Record<string, unknown> };
}

export class JanusTarget implements Target {
	readonly name = 'janus';
	readonly sip = null;
	readonly #child: ChildProcess;
	readonly #base: string;
	readonly #opts: JanusTargetOptions;
	#session = 0;
	#handles: number[] = [];
	readonly #roomIds: number[] = [];
	readonly #waiters = new Map<number, (e: JanusReply) => void>();
	#polling = false;
	#exited = false;
	#tx = 0;
	#logFd: number;

	private constructor(child: ChildProcess, base: string, opts: JanusTargetOptions, logFd: number) {
		this.#child = child;
		this.#base = base;
		this.#opts = opts;
		this.#logFd = logFd;
		// Janus has no IPC channel to notice that the bench went away: kill it when the bench exits.
		const killOnExit = (): void => {
			child.kill('SIGKILL');
		};
		process.once('exit', killOnExit);
		child.on('exit', () => {
			this.#exited = true;
			process.off('exit', killOnExit);
		});
	}

	get pid(): number | null {
		return this.#child.pid ?? null;
	}

	static async start(opts: JanusTargetOptions): Promise<JanusTarget> {
		if (!janusInstalled()) {
			throw new Error(JANUS_INSTALL_HINT);
		}
		if (opts.codec === 'g722') {
			throw new Error('Janus AudioBridge takes plain RTP participants in PCMU, PCMA or Opus only');
		}
		mkdirSync(opts.dir, { recursive: true });
		const port = await freeTcpPort();
		const conf = writeJanusConfig(opts.dir, port);
		const logFd = openSync(join(opts.dir, 'janus.log'), 'a');
		const child = spawn('janus', ['-F', conf, '-C', join(conf, 'janus.jcfg'), '-o'], { stdio: ['ignore', logFd, logFd] });
		const t = new JanusTarget(child, `http://127.0.0.1:${port}/janus`, opts, logFd);
		const deadline = Date.now() + 20_000;
		for (;;) {
			if (t.#exited) {
				closeSync(logFd);
				throw new Error(`janus exited during start; see ${join(opts.dir, 'janus.log')}`);
			}
			try {
				const info = await fetch(`${t.#base}/info`);
				if (info.ok) {
					break;
				}
			} catch {
				// Not listening yet.
			}
			if (Date.now() > deadline) {
				await t.stop();
				throw new Error('janus did not answer on its HTTP API within 20 s');
			}
			await new Promise((r) => setTimeout(r, 200));
		}
		try {
			const created = await t.#post('', { janus: 'create' });
			t.#session = created.data!.id!;
			t.#poll();
			const admin = await t.#attach();
			for (let r = 0; r < opts.rooms; r++) {
				const room = 5000 + r;
				const res = await t.#message(admin, {
					request: 'create',
					room,
					description: `bench ${r}`,
					sampling_rate: opts.sampleRate,
					allow_rtp_participants: true,
					permanent: false,
				});
				const data = res.plugindata?.data;
				if (!data || (data['audiobridge'] !== 'created' && data['error_code'] !== 486)) {
					throw new Error(`janus room create failed: ${JSON.stringify(data ?? res)}`);
				}
				t.#roomIds.push(room);
			}
		} catch (error) {
			await t.stop();
			throw error;
		}
		return t;
	}

	dial(room: number): string {
		return String(this.#roomIds[room] ?? 5000 + room);
	}

	async join(codec: CodecName, list: JoinRequest[]): Promise<JoinResult> {
		const result: JoinResult = { attach: [], setupMs: new Map(), failures: new Map() };
		const pt = codec === 'pcmu' ? 0 : codec === 'pcma' ? 8 : 111;
		let next = 0;
		const worker = async (): Promise<void> => {
			while (next < list.length) {
				const p = list[next++]!;
				const t0 = nowEpoch();
				try {
					const handle = await this.#attach();
					this.#handles.push(handle);
					const joined = new Promise<JanusReply>((resolve, reject) => {
						const timer = setTimeout(() => {
							this.#waiters.delete(handle);
							reject(new Error('no joined event within 10 s'));
						}, 10_000);
						this.#waiters.set(handle, (e) => {
							clearTimeout(timer);
							resolve(e);
						});
					});
					const ack = await this.#message(handle, {
						request: 'join',
						room: Number(this.dial(p.room)),
						display: p.id,
						codec,
						rtp: { ip: '127.0.0.1', port: p.port, payload_type: pt },
					});
					if (ack.janus === 'error') {
						throw new Error(ack.error?.reason ?? 'join error');
					}
					const ev = await joined;
					const data = ev.plugindata?.data ?? {};
					const rtp = data['rtp'] as { ip?: string; port?: number; payload_type?: number } | undefined;
					if (data['audiobridge'] !== 'joined' || !rtp?.port) {
						throw new Error(`unexpected janus event ${JSON.stringify(data)}`);
					}
					result.setupMs.set(p.id, nowEpoch() - t0);
					result.attach.push({ id: p.id, host: rtp.ip ?? '127.0.0.1', port: rtp.port, payloadType: rtp.payload_type ?? pt });
				} catch (error) {
					result.failures.set(p.id, error instanceof Error ? error.message : String(error));
				}
			}
		};
		await Promise.all(Array.from({ length: this.#opts.concurrency ?? 16 }, () => worker()));
		return result;
	}

	async leaveAll(): Promise<void> {
		const handles = this.#handles;
		this.#handles = [];
		let next = 0;
		const worker = async (): Promise<void> => {
			while (next < handles.length) {
				const h = handles[next++]!;
				try {
					await this.#post(`/${this.#session}/${h}`, { janus: 'detach' });
				} catch {
					// Gone already.
				}
			}
		};
		await Promise.all(Array.from({ length: 16 }, () => worker()));
	}

	async mixer(): Promise<MixerFigures | null> {
		return null;
	}

	alive(): boolean {
		return !this.#exited;
	}

	async stop(): Promise<void> {
		this.#polling = false;
		if (!this.#exited) {
			const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
			this.#child.kill('SIGTERM');
			const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
			await exited;
			clearTimeout(timer);
		}
		if (this.#logFd >= 0) {
			closeSync(this.#logFd);
			this.#logFd = -1;
		}
	}

	async #post(path: string, body: Record<string, unknown>): Promise<JanusReply> {
		const res = await fetch(`${this.#base}${path}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ ...body, transaction: `t${++this.#tx}` }),
		});
		return (await res.json()) as JanusReply;
	}

	async #attach(): Promise<number> {
		const r = await this.#post(`/${this.#session}`, { janus: 'attach', plugin: 'janus.plugin.audiobridge' });
		if (r.janus !== 'success' || !r.data?.id) {
			throw new Error(`janus attach failed: ${JSON.stringify(r)}`);
		}
		return r.data.id;
	}

	#message(handle: number, body: Record<string, unknown>): Promise<JanusReply> {
		return this.#post(`/${this.#session}/${handle}`, { janus: 'message', body });
	}

	/** Long-polls the session and hands each plugin event to whoever waits on its handle. */
	#poll(): void {
		this.#polling = true;
		const loop = async (): Promise<void> => {
			while (this.#polling && !this.#exited) {
				try {
					const res = await fetch(`${this.#base}/${this.#session}?maxev=50&rid=${Date.now()}`);
					const body = (await res.json()) as JanusReply | JanusReply[];
					for (const ev of Array.isArray(body) ? body : [body]) {
						if (ev.janus === 'event' && ev.sender !== undefined) {
							const w = this.#waiters.get(ev.sender);
							if (w && ev.plugindata?.data['audiobridge'] === 'joined') {
								this.#waiters.delete(ev.sender);
								w(ev);
							}
						}
					}
				} catch {
					await new Promise((r) => setTimeout(r, 100));
				}
			}
		};
		void loop();
	}
}
