#!/usr/bin/env node
/**
 * `npm run bench -- [options]`: load benchmark of the conference server
 * (and of Janus AudioBridge for comparison). See --help and docs/bench.md.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULTS, parseCodec, parseTalkers, runBench, type CapacityOptions } from './run.js';
import { JANUS_INSTALL_HINT, janusInstalled } from './target/janus.js';
import { realtimeAvailable } from './load/handle.js';
import { renderHtml } from './report/html.js';
import { ProgressBar } from './report/progress.js';
import { formatTable } from './report/table.js';

const HELP = `usage: npm run bench -- [options]

Starts the conference server in a child process on 127.0.0.1 (or targets
another server), places SIP calls from the bench's own load generator, and
measures call setup, loss, jitter, delay through the server, mixer tick
times, server CPU and memory. Prints a summary table, writes result.json and
report.html into --out.

Load
  --rooms R              rooms (default 1; in capacity mode the first step)
  --participants P       participants per room (default 3)
  --codec C              pcmu | pcma | g722 | opus (default pcmu)
  --talkers T            all | N (N talkers, the others send silence) | bursts
                         (speech-like talk spurts and pauses) (default all)
  --duration S           measurement window per step, seconds (default 10)
  --warmup S             wait after the calls are up, seconds (default 2)
  --sample-rate HZ       room mix rate where the target allows it

Target
  --target T             self | janus | HOST:PORT, or a comma list run one after
                         the other with the identical load (e.g. self,janus)
                         (default self)
  --workers N            mixer worker threads of the self server (default 1)
  --server-pid PID       HOST:PORT target: its pid, for CPU/RSS from /proc
  --dial-prefix S        HOST:PORT target: room r is dialled as S + r
                         (default: 100000 + r, as the self server)

Capacity
  --find-capacity        ramp participants (more rooms of P; or a bigger room
                         when --rooms 1) until loss > --max-loss, mixer tick
                         p99 > --max-tick-p99 or the server's CPU saturates;
                         print the largest load that held
  --max-participants N   stop ramping at N (default 2000)
  --max-loss PCT         loss limit, percent (default 0.5)
  --max-tick-p99 MS      mixer tick p99 limit, ms (default 10)

Generator
  --generators N         generator processes (0: inside this process;
                         default one per 1,000 participants, at most one per core)
  --probes N             participants per room whose audio is analysed for
                         marker tones (default 2)
  --cps N                call attempts per second (default 200)
  --nice N               generator priority when run as root (default -10)
  --realtime PRIO        run generator processes under SCHED_RR at PRIO via
                         chrt, so a busy server cannot starve their 20 ms
                         clock (default 10 when root and chrt exist; 0: off)

Output
  --out DIR              where result.json, report.html and logs go
                         (default bench/results/<timestamp>/)
  --open                 open the HTML report in a browser (xdg-open)
  -h, --help             this text

Exit status: 0 when the run completed, 1 on an error, 2 when Janus is needed
but not installed.`;

function num(v: string | undefined, name: string, def: number): number {
	if (v === undefined) {
		return def;
	}
	const n = Number(v);
	if (!Number.isFinite(n)) {
		throw new TypeError(`${name} must be a number, got ${v}`);
	}
	return n;
}

function positiveInt(v: string | undefined, name: string, def: number): number {
	const n = num(v, name, def);
	if (!Number.isInteger(n) || n < 1) {
		throw new TypeError(`${name} must be a positive integer, got ${v}`);
	}
	return n;
}

async function main(): Promise<number> {
	const { values } = parseArgs({
		options: {
			rooms: { type: 'string' },
			participants: { type: 'string' },
			codec: { type: 'string' },
			talkers: { type: 'string' },
			duration: { type: 'string' },
			warmup: { type: 'string' },
			'sample-rate': { type: 'string' },
			target: { type: 'string' },
			workers: { type: 'string' },
			'server-pid': { type: 'string' },
			'dial-prefix': { type: 'string' },
			'find-capacity': { type: 'boolean' },
			'max-participants': { type: 'string' },
			'max-loss': { type: 'string' },
			'max-tick-p99': { type: 'string' },
			generators: { type: 'string' },
			probes: { type: 'string' },
			cps: { type: 'string' },
			nice: { type: 'string' },
			realtime: { type: 'string' },
			out: { type: 'string' },
			open: { type: 'boolean' },
			help: { type: 'boolean', short: 'h' },
		},
		strict: true,
	});
	if (values.help) {
		process.stdout.write(`${HELP}\n`);
		return 0;
	}
	const target = values.target ?? 'self';
	if (target.split(',').includes('janus') && !janusInstalled()) {
		process.stderr.write(`${JANUS_INSTALL_HINT}\n`);
		return 2;
	}
	const stamp = new Date().toISOString().replace(/[:.]/g, '-');
	const out = resolve(values.out ?? join('bench', 'results', stamp));
	mkdirSync(out, { recursive: true });
	const capacity = values['find-capacity'] === true;
	const bar = new ProgressBar();
	const opts: Partial<CapacityOptions> = {
		rooms: positiveInt(values.rooms, '--rooms', DEFAULTS.rooms),
		participants: positiveInt(values.participants, '--participants', DEFAULTS.participants),
		codec: parseCodec(values.codec ?? DEFAULTS.codec),
		talkers: parseTalkers(values.talkers ?? String(DEFAULTS.talkers)),
		durationSec: num(values.duration, '--duration', DEFAULTS.durationSec),
		warmupSec: num(values.warmup, '--warmup', DEFAULTS.warmupSec),
		target,
		serverWorkers: positiveInt(values.workers, '--workers', DEFAULTS.serverWorkers),
		probesPerRoom: num(values.probes, '--probes', DEFAULTS.probesPerRoom),
		callsPerSecond: positiveInt(values.cps, '--cps', DEFAULTS.callsPerSecond),
		maxLossRatio: num(values['max-loss'], '--max-loss', DEFAULTS.maxLossRatio * 100) / 100,
		maxTickP99Ms: num(values['max-tick-p99'], '--max-tick-p99', DEFAULTS.maxTickP99Ms),
		nice: num(values.nice, '--nice', -10),
		maxParticipants: capacity ? positiveInt(values['max-participants'], '--max-participants', 2000) : 0,
		serverLog: join(out, 'server.log'),
		janusDir: join(out, 'janus'),
		onProgress: (p) => bar.update(p),
	};
	const rt = num(values.realtime, '--realtime', realtimeAvailable() ? 10 : 0);
	if (rt > 0) {
		opts.realtimePriority = rt;
	}
	if (values.generators !== undefined) {
		opts.generators = num(values.generators, '--generators', 1);
	}
	if (values['sample-rate'] !== undefined) {
		opts.sampleRate = positiveInt(values['sample-rate'], '--sample-rate', 8000);
	}
	if (values['server-pid'] !== undefined) {
		opts.serverPid = positiveInt(values['server-pid'], '--server-pid', 0);
	}
	if (values['dial-prefix'] !== undefined) {
		opts.dialPrefix = values['dial-prefix'];
	}
	if (!(opts.durationSec! > 0) || !(opts.warmupSec! >= 0)) {
		throw new TypeError('--duration must be above 0 and --warmup 0 or more');
	}
	const result = await runBench(opts);
	bar.done();
	const jsonPath = join(out, 'result.json');
	const htmlPath = join(out, 'report.html');
	writeFileSync(jsonPath, `${JSON.stringify(result, null, '\t')}\n`);
	writeFileSync(htmlPath, renderHtml(result));
	process.stdout.write(formatTable(result));
	process.stdout.write(`\nresult: ${jsonPath}\nreport: file://${htmlPath}\n`);
	if (values.open) {
		spawn('xdg-open', [htmlPath], { stdio: 'ignore', detached: true }).on('error', () => {}).unref();
	}
	return 0;
}

// Ctrl-C: exit through process.exit so 'exit' hooks stop the targets (forked
// children also leave when their IPC channel closes).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
	process.once(signal, () => {
		process.stderr.write(`\nbench: ${signal}, stopping\n`);
		process.exit(130);
	});
}

main().then(
	(code) => {
		process.exitCode = code;
	},
	(error: unknown) => {
		process.stderr.write(`\nbench: ${error instanceof Error ? error.message : String(error)}\n`);
		process.exitCode = 1;
	},
);
