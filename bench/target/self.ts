/**
 * The server under test, started by the bench in a child process on
 * loopback (bench/target/server-child.ts), with as many rooms as the run
 * needs, room r dialled as 100000 + r.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MixerFigures, Target } from './target.js';

export interface SelfTargetOptions {
	rooms: number;
	workers: number;
	host: string;
	portMin: number;
	portMax: number;
	sampleRate?: number;
	/** Server log file (pino JSON lines); null discards them. */
	logFile: string | null;
	logLevel: string;
}

interface WorkerStats {
	kernel: string;
	ticks: number;
	overruns: number;
	tickUs: { p50: number; p99: number; max: number; samples: number };
	/** Cumulative counts per upper bound, when the server reports it. */
	tickHistogram?: { boundsUs: number[]; counts: number[]; count: number };
}

export function roomNumber(room: number): string {
	return String(100000 + room);
}

export class SelfTarget implements Target {
	readonly name = 'self';
	readonly #child: ChildProcess;
	readonly #workers = new Map<number, WorkerStats>();
	readonly sip: { host: string; port: number };
	#exited = false;
	#logFd: number | null;

	private constructor(child: ChildProcess, host: string, port: number, logFd: number | null) {
		this.#child = child;
		this.sip = { host, port };
		this.#logFd = logFd;
		child.on('message', (m: { type: string; data?: { worker: number; stats: WorkerStats } }) => {
			if (m.type === 'mixer' && m.data) {
				this.#workers.set(m.data.worker, m.data.stats);
			}
		});
		child.on('exit', () => {
			this.#exited = true;
		});
	}

	get pid(): number | null {
		return this.#child.pid ?? null;
	}

	static async start(opts: SelfTargetOptions): Promise<SelfTarget> {
		const rooms = Array.from({ length: opts.rooms }, (_, r) => {
			const room: { name: string; number: string; sampleRate?: number } = { name: `bench ${r}`, number: roomNumber(r) };
			if (opts.sampleRate !== undefined) {
				room.sampleRate = opts.sampleRate;
			}
			return room;
		});
		const config = {
			sip: { host: opts.host, port: 0, tcp: false },
			rtp: { host: opts.host, portMin: opts.portMin, portMax: opts.portMax, timeoutSec: 0 },
			mixer: { workers: opts.workers },
			rooms,
		};
		const entry = fileURLToPath(new URL('./server-child.js', import.meta.url));
		const logFd = opts.logFile ? openSync(opts.logFile, 'a') : null;
		const child = fork(entry, [], {
			stdio: ['ignore', logFd ?? 'ignore', logFd ?? 'ignore', 'ipc'],
			env: { ...process.env, BENCH_SERVER_CONFIG: JSON.stringify(config), LOG_LEVEL: opts.logLevel },
		});
		const port = await new Promise<number>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error('server did not start within 20 s')), 20_000);
			child.on('message', (m: { type: string; sipPort?: number; error?: string }) => {
				if (m.type === 'ready' && m.sipPort) {
					clearTimeout(timer);
					resolve(m.sipPort);
				} else if (m.type === 'error') {
					clearTimeout(timer);
					reject(new Error(`server failed to start: ${m.error}`));
				}
			});
			child.once('exit', (code) => {
				clearTimeout(timer);
				reject(new Error(`server exited during start (code ${code})`));
			});
		}).catch((error: unknown) => {
			child.kill('SIGKILL');
			if (logFd !== null) {
				closeSync(logFd);
			}
			throw error;
		});
		return new SelfTarget(child, opts.host, port, logFd);
	}

	dial(room: number): string {
		return roomNumber(room);
	}

	async mixer(): Promise<MixerFigures | null> {
		if (this.#workers.size === 0) {
			return null;
		}
		const f: MixerFigures = { tickP50Us: 0, tickP99Us: 0, tickMaxUs: 0, ticks: 0, overruns: 0, kernel: '', workers: this.#workers.size };
		for (const w of this.#workers.values()) {
			f.tickP50Us = Math.max(f.tickP50Us, w.tickUs.p50);
			f.tickP99Us = Math.max(f.tickP99Us, w.tickUs.p99);
			f.tickMaxUs = Math.max(f.tickMaxUs, w.tickUs.max);
			f.ticks += w.ticks;
			f.overruns += w.overruns;
			f.kernel = w.kernel;
			const h = w.tickHistogram;
			if (h && Array.isArray(h.boundsUs) && Array.isArray(h.counts)) {
				if (!f.cumulative) {
					f.cumulative = { boundsUs: [...h.boundsUs], counts: h.counts.map(() => 0), count: 0 };
				}
				if (f.cumulative.boundsUs.length === h.boundsUs.length) {
					h.counts.forEach((c, i) => {
						f.cumulative!.counts[i]! += c;
					});
					f.cumulative.count += h.count;
				}
			}
		}
		return f;
	}

	alive(): boolean {
		return !this.#exited;
	}

	async stop(): Promise<void> {
		if (!this.#exited) {
			const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
			this.#child.send({ type: 'stop' });
			const timer = setTimeout(() => this.#child.kill('SIGKILL'), 8000);
			await exited;
			clearTimeout(timer);
		}
		if (this.#logFd !== null) {
			closeSync(this.#logFd);
			this.#logFd = null;
		}
	}
}

/** A SIP server somewhere else (HOST:PORT): rooms are dialled as given, nothing is sampled unless a pid is known. */
export class ExternalTarget implements Target {
	readonly name: string;
	readonly sip: { host: string; port: number };
	readonly pid: number | null;
	readonly #dial: (room: number) => string;

	constructor(host: string, port: number, pid: number | null, dial: (room: number) => string) {
		this.name = `${host}:${port}`;
		this.sip = { host, port };
		this.pid = pid;
		this.#dial = dial;
	}

	dial(room: number): string {
		return this.#dial(room);
	}

	async mixer(): Promise<MixerFigures | null> {
		return null;
	}

	alive(): boolean {
		return true;
	}

	async stop(): Promise<void> {}
}
