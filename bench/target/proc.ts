/**
 * CPU and memory of a process from /proc (Linux): user and system time from
 * /proc/<pid>/stat, per thread from /proc/<pid>/task/<tid>/stat, RSS from
 * /proc/<pid>/status, and the whole machine's busy time from /proc/stat.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

let clkTck = 0;

/** Clock ticks per second of the times in /proc (getconf CLK_TCK; 100 almost everywhere). */
export function clockTicks(): number {
	if (clkTck === 0) {
		try {
			clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
		} catch {
			clkTck = 100;
		}
	}
	return clkTck;
}

/** utime, stime (ticks) and thread count from the text of a /proc/…/stat file. */
export function parseStat(text: string): { utime: number; stime: number; threads: number } {
	// The command name is in parentheses and may contain spaces or ')'.
	const close = text.lastIndexOf(')');
	const f = text.slice(close + 2).split(' ');
	// Fields after the name start at field 3 (state): utime is field 14, stime 15, num_threads 20.
	return { utime: Number(f[11]), stime: Number(f[12]), threads: Number(f[17]) };
}

/** VmRSS and VmHWM (kB) from the text of /proc/<pid>/status. */
export function parseStatus(text: string): { rssKb: number; hwmKb: number } {
	const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
	const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(text);
	return { rssKb: rss ? Number(rss[1]) : 0, hwmKb: hwm ? Number(hwm[1]) : 0 };
}

/** Busy and total jiffies of the whole machine from the text of /proc/stat. */
export function parseMachineStat(text: string): { busy: number; total: number } {
	const line = text.split('\n').find((l) => l.startsWith('cpu ')) ?? '';
	const v = line.trim().split(/\s+/).slice(1).map(Number);
	const total = v.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
	const idle = (v[3] ?? 0) + (v[4] ?? 0);
	return { busy: total - idle, total };
}

export interface ProcSample {
	/** Epoch ms. */
	at: number;
	utime: number;
	stime: number;
	threads: number;
	rssKb: number;
	hwmKb: number;
	/** Ticks per thread id. */
	tasks: Map<number, number>;
	machineBusy: number;
	machineTotal: number;
}

export function sampleProc(pid: number): ProcSample | null {
	try {
		const st = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
		const status = parseStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
		const tasks = new Map<number, number>();
		for (const tid of readdirSync(`/proc/${pid}/task`)) {
			try {
				const t = parseStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
				tasks.set(Number(tid), t.utime + t.stime);
			} catch {
				// The thread ended between readdir and read.
			}
		}
		const m = parseMachineStat(readFileSync('/proc/stat', 'utf8'));
		return { at: Date.now(), ...st, ...status, tasks, machineBusy: m.busy, machineTotal: m.total };
	} catch {
		return null;
	}
}

export interface CpuBetween {
	userMs: number;
	systemMs: number;
	/** CPU time / wall time: 1.0 = one core fully busy. */
	cores: number;
	/** Busiest single thread's share of one core. */
	maxThread: number;
	/** Whole machine busy share (0-1 over all cores). */
	machineBusy: number;
	wallMs: number;
}

export function cpuBetween(a: ProcSample, b: ProcSample): CpuBetween {
	const tck = clockTicks();
	const wallMs = Math.max(1, b.at - a.at);
	const userMs = ((b.utime - a.utime) * 1000) / tck;
	const systemMs = ((b.stime - a.stime) * 1000) / tck;
	let maxThread = 0;
	for (const [tid, ticks] of b.tasks) {
		const before = a.tasks.get(tid) ?? 0;
		const share = ((ticks - before) * 1000) / tck / wallMs;
		if (share > maxThread) {
			maxThread = share;
		}
	}
	const dt = b.machineTotal - a.machineTotal;
	return {
		userMs,
		systemMs,
		cores: (userMs + systemMs) / wallMs,
		maxThread,
		machineBusy: dt > 0 ? (b.machineBusy - a.machineBusy) / dt : 0,
		wallMs,
	};
}
