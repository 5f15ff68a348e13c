/**
 * One interface over a load generator, whether it runs in this process or in
 * a forked child (bench/load/child.ts). The orchestrator drives a list of
 * handles the same way either way.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LoadGenerator } from './generator.js';
import type { Attach, GeneratorInit, GeneratorReport, PortInfo, Progress } from './types.js';

export interface GeneratorHandle {
	readonly pid: number;
	ports(): Promise<PortInfo[]>;
	callAll(): Promise<void>;
	attach(list: Attach[]): Promise<void>;
	reset(): Promise<void>;
	progress(): Promise<Progress>;
	collect(): Promise<GeneratorReport>;
	hangup(): Promise<void>;
	stopMedia(): Promise<void>;
	close(): Promise<void>;
}

/** The commands a forked generator understands (method name → params). */
export type GeneratorCommand = 'ports' | 'callAll' | 'attach' | 'reset' | 'progress' | 'collect' | 'hangup' | 'stopMedia' | 'close';

export interface CommandMessage {
	id: number;
	cmd: GeneratorCommand | 'init';
	arg?: unknown;
}

export interface ReplyMessage {
	id: number;
	ok: boolean;
	result?: unknown;
	error?: string;
}

export class LocalGenerator implements GeneratorHandle {
	readonly pid = process.pid;
	readonly #gen: LoadGenerator;

	private constructor(gen: LoadGenerator) {
		this.#gen = gen;
	}

	static async create(init: GeneratorInit): Promise<LocalGenerator> {
		return new LocalGenerator(await LoadGenerator.create(init));
	}

	async ports(): Promise<PortInfo[]> {
		return this.#gen.ports();
	}
	callAll(): Promise<void> {
		return this.#gen.callAll();
	}
	async attach(list: Attach[]): Promise<void> {
		this.#gen.attach(list);
	}
	async reset(): Promise<void> {
		this.#gen.reset();
	}
	async progress(): Promise<Progress> {
		return this.#gen.progress();
	}
	async collect(): Promise<GeneratorReport> {
		return this.#gen.collect();
	}
	hangup(): Promise<void> {
		return this.#gen.hangup();
	}
	async stopMedia(): Promise<void> {
		this.#gen.stopMedia();
	}
	async close(): Promise<void> {
		this.#gen.close();
	}
}

export class ForkedGenerator implements GeneratorHandle {
	readonly #child: ChildProcess;
	readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
	#nextId = 1;
	#exited = false;

	private constructor(child: ChildProcess) {
		this.#child = child;
		child.on('message', (m: ReplyMessage) => {
			const p = this.#pending.get(m.id);
			if (!p) {
				return;
			}
			this.#pending.delete(m.id);
			if (m.ok) {
				p.resolve(m.result);
			} else {
				p.reject(new Error(m.error ?? 'generator error'));
			}
		});
		child.on('exit', (code, signal) => {
			this.#exited = true;
			for (const p of this.#pending.values()) {
				p.reject(new Error(`generator process exited (${signal ?? code})`));
			}
			this.#pending.clear();
		});
	}

	get pid(): number {
		return this.#child.pid ?? -1;
	}

	/**
	 * `realtimePriority` (1-99) runs the process under SCHED_RR through
	 * chrt(1), so a server with thousands of threads cannot starve the
	 * generator's 20 ms clock (root only; the kernel still keeps 5% of
	 * every second for normal tasks).
	 */
	static async create(init: GeneratorInit, realtimePriority?: number): Promise<ForkedGenerator> {
		const entry = fileURLToPath(new URL('./child.js', import.meta.url));
		const rt = realtimePriority !== undefined ? { execPath: 'chrt', execArgv: ['-r', String(realtimePriority), process.execPath] } : {};
		const child = fork(entry, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced', ...rt });
		const g = new ForkedGenerator(child);
		try {
			await g.#request('init', init);
		} catch (error) {
			child.kill('SIGKILL');
			throw error;
		}
		return g;
	}

	#request<T>(cmd: CommandMessage['cmd'], arg?: unknown): Promise<T> {
		if (this.#exited) {
			return Promise.reject(new Error('generator process has exited'));
		}
		const id = this.#nextId++;
		return new Promise<T>((resolve, reject) => {
			this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
			const msg: CommandMessage = arg === undefined ? { id, cmd } : { id, cmd, arg };
			this.#child.send(msg);
		});
	}

	ports(): Promise<PortInfo[]> {
		return this.#request('ports');
	}
	callAll(): Promise<void> {
		return this.#request('callAll');
	}
	attach(list: Attach[]): Promise<void> {
		return this.#request('attach', list);
	}
	reset(): Promise<void> {
		return this.#request('reset');
	}
	progress(): Promise<Progress> {
		return this.#request('progress');
	}
	collect(): Promise<GeneratorReport> {
		return this.#request('collect');
	}
	hangup(): Promise<void> {
		return this.#request('hangup');
	}
	stopMedia(): Promise<void> {
		return this.#request('stopMedia');
	}
	async close(): Promise<void> {
		if (this.#exited) {
			return;
		}
		const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
		try {
			await Promise.race([this.#request('close'), new Promise((r) => setTimeout(r, 2000))]);
		} catch {
			// Exiting anyway.
		}
		const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3000);
		await exited;
		clearTimeout(timer);
	}
}

/** True when this process may start others under SCHED_RR (root with chrt installed). */
export function realtimeAvailable(): boolean {
	if (process.getuid?.() !== 0) {
		return false;
	}
	try {
		execFileSync('chrt', ['-r', '1', 'true'], { stdio: 'ignore' });
		return true;
	} catch {
		return false;
	}
}
