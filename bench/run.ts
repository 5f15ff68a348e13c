/**
 * The bench orchestrator: start the system under test, spread the callers
 * over load-generator processes, place the calls, measure one window, hang
 * up, and turn what every generator saw into one result. findCapacity()
 * repeats that at growing loads until a quality limit breaks.
 *
 *   const result = await runBench({ rooms: 1, participants: 3, durationSec: 4 });
 */
import os from 'node:os';
import { matchMarkers, type MarkerSend } from './analysis/burst.js';
import { Histogram, summarize, type Summary } from './analysis/percentiles.js';
import { CODEC_NAMES, type CodecName } from './codec/profiles.js';
import { ForkedGenerator, LocalGenerator, type GeneratorHandle } from './load/handle.js';
import { nowEpoch } from './load/generator.js';
import { TALKER_TONES } from './load/signals.js';
import type { GeneratorInit, GeneratorReport, ParticipantSpec, Progress } from './load/types.js';
import { cpuBetween, sampleProc, type ProcSample } from './target/proc.js';
import { ExternalTarget, SelfTarget, roomNumber } from './target/self.js';
import type { MixerFigures, Target } from './target/target.js';

export type Talkers = 'all' | 'bursts' | number;

export interface BenchOptions {
	/** Rooms (in capacity mode: the first step). */
	rooms: number;
	/** Participants per room. */
	participants: number;
	codec: CodecName;
	talkers: Talkers;
	/** Measurement window per step, s. */
	durationSec: number;
	/** Time between the last call set up and the window, s. */
	warmupSec: number;
	/** 'self', 'janus', or HOST:PORT of a SIP server. */
	target: string;
	/** Generator processes; 0 runs the generator in this process. Default: one per 1,000 participants, at most the core count. */
	generators?: number;
	/** Mixer worker threads of the self server. */
	serverWorkers: number;
	/** Room mix rate (Hz) where the target lets us choose. */
	sampleRate?: number;
	/** Participants per room whose audio is decoded and searched for markers. */
	probesPerRoom: number;
	markerIntervalMs: number;
	markerHz: number;
	markerMs: number;
	/** Late-packet threshold (the playout buffer a phone would have), ms. */
	lateMs: number;
	callsPerSecond: number;
	/** Quality limits. */
	maxLossRatio: number;
	maxTickP99Ms: number;
	/** Generator priority (nice), e.g. -10; applied when running as root. */
	nice?: number;
	/** Run forked generators under SCHED_RR at this priority (chrt, root only). */
	realtimePriority?: number;
	/** Limit: the generator's 20 ms timer p99 lateness above this makes the step fail (its figures are not the server's). */
	maxGeneratorLateMs: number;
	/** Limit: whole-machine CPU busy share at or above this counts as saturation, when the server and the generator use most of it (85% of all cores). */
	maxMachineBusy: number;
	/** For HOST:PORT targets: the server's pid (for /proc figures) and what room r dials. */
	serverPid?: number;
	dialPrefix?: string;
	/** Server log file for the self target; null discards. */
	serverLog: string | null;
	/** Janus work directory (configs, logs) for --target janus. */
	janusDir?: string;
	onProgress?: (p: ProgressInfo) => void;
}

export interface CapacityOptions extends BenchOptions {
	/** Capacity mode when above 0: ramp up to this many participants. */
	maxParticipants: number;
	/** Growth factor between steps. Default 1.5. */
	growth?: number;
}

export const DEFAULTS: Omit<BenchOptions, 'onProgress'> = {
	rooms: 1,
	participants: 3,
	codec: 'pcmu',
	talkers: 'all',
	durationSec: 10,
	warmupSec: 2,
	target: 'self',
	serverWorkers: 1,
	probesPerRoom: 2,
	markerIntervalMs: 1000,
	markerHz: 2000,
	markerMs: 60,
	lateMs: 60,
	callsPerSecond: 200,
	maxLossRatio: 0.005,
	maxTickP99Ms: 10,
	maxGeneratorLateMs: 20,
	maxMachineBusy: 0.98,
	serverLog: null,
};

export interface ProgressInfo {
	/** Which target (in a comma list of targets). */
	target?: string;
	phase: 'starting' | 'calling' | 'warmup' | 'measuring' | 'hangup' | 'done';
	/** 0-1 within the phase. */
	fraction: number;
	participants: number;
	step?: number;
	up: number;
	failed: number;
	lossRatio: number;
	serverCpuCores: number | null;
}

export interface ParticipantHearing {
	id: string;
	/** Marker senders this probe heard. */
	heardFrom: string[];
	missed: number;
	selfHeard: number;
	spurious: number;
}

export interface StepResult {
	rooms: number;
	participantsPerRoom: number;
	participants: number;
	codec: CodecName;
	talkers: Talkers;
	windowSec: number;
	calls: { attempted: number; ok: number; failed: number; failures: Record<string, number>; setupMs: Summary; remoteHangups: number };
	packets: {
		sent: number;
		expected: number;
		received: number;
		lost: number;
		lossRatio: number;
		/** Of the lost: packets the server never sent because it fell behind real time. */
		behind: number;
		late: number;
		lateRatio: number;
		duplicates: number;
		reordered: number;
		/** Worst participant's loss ratio. */
		worstLossRatio: number;
	};
	/** Per-participant RFC 3550 jitter at the end of the window, ms. */
	jitterMs: Summary;
	/** Per-participant largest gap between packets, ms. */
	maxGapMs: Summary;
	delay: {
		ms: Summary;
		/** Fixed-width buckets (2-20 ms) covering the largest delay. */
		histogram: { bounds: number[]; counts: number[] };
		markersSent: number;
		heard: number;
		missed: number;
		selfHeard: number;
		spurious: number;
	};
	hearing: ParticipantHearing[];
	server: {
		pid: number | null;
		cpuUserMs: number;
		cpuSystemMs: number;
		/** CPU time / wall time (1 = one core). */
		cpuCores: number;
		maxThreadCores: number;
		/** Server CPU µs per participant per 20 ms frame. */
		cpuUsPerParticipantFrame: number;
		rssMb: number;
		threads: number;
		machineBusy: number;
	} | null;
	mixer: (MixerFigures & { overrunsInWindow: number }) | null;
	generator: { processes: number; cpuCores: number; tickLatenessP99Ms: number; tickLatenessMaxMs: number; skippedFrames: number; sendErrors: number };
	timeline: Array<{ t: number; cpuCores: number; rssMb: number; lossRatio: number }>;
	verdict: { ok: boolean; reasons: string[] };
}

export interface TargetRun {
	target: string;
	steps: StepResult[];
	/** Capacity mode: the largest step that held (null when even the first broke, or not in capacity mode). */
	capacity: { participants: number; rooms: number; step: StepResult } | null;
	/** Set when the run against this target could not be done. */
	error?: string;
}

export interface BenchResult {
	version: 1;
	startedAt: string;
	host: { cpus: number; model: string; node: string; platform: string };
	options: Omit<BenchOptions, 'onProgress'>;
	mode: 'single' | 'capacity';
	runs: TargetRun[];
	/** Two targets: the first's figures over the second's. */
	comparison: Comparison | null;
}

export interface Comparison {
	a: string;
	b: string;
	/** Capacity mode: participants held, a / b. */
	capacityRatio: number | null;
	/** Server CPU µs per participant-frame, b / a (above 1: a is cheaper). */
	cpuPerParticipantRatio: number | null;
	lossA: number;
	lossB: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Parses --talkers: all | bursts | N. */
export function parseTalkers(s: string): Talkers {
	if (s === 'all' || s === 'bursts') {
		return s;
	}
	const n = Number(s);
	if (!Number.isInteger(n) || n < 0) {
		throw new TypeError(`--talkers must be all, bursts or a number, got ${s}`);
	}
	return n;
}

export function parseCodec(s: string): CodecName {
	const c = s.toLowerCase() as CodecName;
	if (!CODEC_NAMES.includes(c)) {
		throw new TypeError(`--codec must be one of ${CODEC_NAMES.join(', ')}, got ${s}`);
	}
	return c;
}

/** Who says what in each room (see ParticipantSpec). */
export function buildParticipants(rooms: number, perRoom: number, talkers: Talkers, probes: number, markerIntervalFrames: number, dial: (r: number) => string): ParticipantSpec[] {
	const out: ParticipantSpec[] = [];
	for (let r = 0; r < rooms; r++) {
		const senders = talkers === 'all' || talkers === 'bursts' ? perRoom : Math.min(talkers, perRoom);
		for (let p = 0; p < perRoom; p++) {
			const talking = talkers === 'all' || talkers === 'bursts' || p < talkers;
			// Probes: the first participant (a talker) and the last ones (listeners when only some talk).
			const probe = probes > 0 && (p === 0 || p >= perRoom - (probes - 1));
			out.push({
				id: `r${r}p${p}`,
				room: r,
				dial: dial(r),
				signal: !talking ? 'silence' : talkers === 'bursts' ? 'bursts' : 'tone',
				toneHz: TALKER_TONES[p % TALKER_TONES.length]!,
				seed: r * 1009 + p + 1,
				markerSlot: talking ? p : -1,
				markerSenders: senders,
				markerOffset: (r * 7) % markerIntervalFrames,
				probe,
			});
		}
	}
	return out;
}

function defaultGenerators(total: number): number {
	return Math.max(1, Math.min(os.cpus().length, Math.ceil(total / 1000)));
}

/** The room mix rate: --sample-rate, else the codec's own rate (so both targets mix alike). */
export function roomRate(opts: BenchOptions): number {
	return opts.sampleRate ?? (opts.codec === 'opus' ? 48000 : opts.codec === 'g722' ? 16000 : 8000);
}

/** Starts the system under test with room for `rooms` rooms. */
export async function startTarget(opts: BenchOptions, rooms: number): Promise<Target> {
	if (opts.target === 'self') {
		return SelfTarget.start({
			rooms,
			workers: opts.serverWorkers,
			host: '127.0.0.1',
			portMin: 10000,
			portMax: 30000,
			sampleRate: roomRate(opts),
			logFile: opts.serverLog,
			logLevel: 'warn',
		});
	}
	if (opts.target === 'janus') {
		const { JanusTarget } = await import('./target/janus.js');
		return JanusTarget.start({ rooms, codec: opts.codec, sampleRate: roomRate(opts), dir: opts.janusDir ?? os.tmpdir() });
	}
	const m = /^([^:]+):(\d+)$/.exec(opts.target);
	if (!m) {
		throw new TypeError(`--target must be self, janus or HOST:PORT, got ${opts.target}`);
	}
	const prefix = opts.dialPrefix;
	return new ExternalTarget(m[1]!, Number(m[2]), opts.serverPid ?? null, (r) => (prefix !== undefined ? `${prefix}${r}` : roomNumber(r)));
}

/** One load level against a running target: call, warm up, measure, hang up. */
export async function runStep(target: Target, opts: BenchOptions, rooms: number, perRoom: number, step = 0): Promise<StepResult> {
	const total = rooms * perRoom;
	const markerIntervalFrames = Math.max(5, Math.round(opts.markerIntervalMs / 20));
	const specs = buildParticipants(rooms, perRoom, opts.talkers, Math.min(opts.probesPerRoom, perRoom), markerIntervalFrames, (r) => target.dial(r));
	const nGen = opts.generators ?? defaultGenerators(total);
	const epochMs = Math.ceil(nowEpoch()) + 50;
	const progress = (p: Omit<ProgressInfo, 'participants' | 'step'>): void => opts.onProgress?.({ ...p, participants: total, step });
	progress({ phase: 'starting', fraction: 0, up: 0, failed: 0, lossRatio: 0, serverCpuCores: null });

	const slices: ParticipantSpec[][] = [];
	const per = Math.ceil(total / Math.max(1, nGen));
	for (let i = 0; i < total; i += per) {
		slices.push(specs.slice(i, i + per));
	}
	const baseInit: Omit<GeneratorInit, 'participants' | 'callsPerSecond'> = {
		codec: opts.codec,
		epochMs,
		markerHz: opts.markerHz,
		markerMs: opts.markerMs,
		markerAmplitude: 8000,
		markerIntervalFrames,
		markerThreshold: 1500,
		talkAmplitude: opts.talkers === 'all' && perRoom > 4 ? Math.round(16000 / perRoom) : 2000,
		lateMs: opts.lateMs,
		bindHost: '127.0.0.1',
		maxInFlight: 50,
		...(target.sip ? { sip: target.sip } : {}),
		...(opts.nice !== undefined ? { nice: opts.nice } : {}),
	};
	const gens: GeneratorHandle[] = [];
	try {
		const created = await Promise.allSettled(
			slices.map((participants) => {
				const init: GeneratorInit = { ...baseInit, participants, callsPerSecond: opts.callsPerSecond / slices.length };
				return nGen === 0 ? LocalGenerator.create(init) : ForkedGenerator.create(init, opts.realtimePriority);
			}),
		);
		for (const c of created) {
			if (c.status === 'fulfilled') {
				gens.push(c.value);
			}
		}
		const bad = created.find((c) => c.status === 'rejected');
		if (bad && bad.status === 'rejected') {
			throw bad.reason;
		}

		// Signalling.
		const poll = async (): Promise<Progress> => sumProgress(await Promise.all(gens.map((g) => g.progress())));
		let joinSetup: Map<string, number> | null = null;
		let joinFailures: Map<string, string> | null = null;
		if (target.sip) {
			let done = false;
			const calls = Promise.all(gens.map((g) => g.callAll())).finally(() => {
				done = true;
			});
			while (!done) {
				await Promise.race([calls, sleep(500)]);
				const p = await poll();
				progress({ phase: 'calling', fraction: (p.up + p.failed) / total, up: p.up, failed: p.failed, lossRatio: 0, serverCpuCores: null });
			}
			await calls;
		} else if (target.join) {
			const ports = (await Promise.all(gens.map((g) => g.ports()))).flat();
			const roomOf = new Map(specs.map((s) => [s.id, s.room]));
			progress({ phase: 'calling', fraction: 0, up: 0, failed: 0, lossRatio: 0, serverCpuCores: null });
			const joined = await target.join(
				opts.codec,
				ports.map((p) => ({ id: p.id, port: p.port, room: roomOf.get(p.id)! })),
			);
			joinSetup = joined.setupMs;
			joinFailures = joined.failures;
			const byGen = gens.map(() => [] as typeof joined.attach);
			const genOf = new Map<string, number>();
			slices.forEach((s, i) => s.forEach((p) => genOf.set(p.id, i)));
			for (const a of joined.attach) {
				byGen[genOf.get(a.id)!]!.push(a);
			}
			await Promise.all(gens.map((g, i) => g.attach(byGen[i]!)));
		}

		// Warm-up, then the window.
		const warmEnd = Date.now() + opts.warmupSec * 1000;
		while (Date.now() < warmEnd) {
			const p = await poll();
			progress({ phase: 'warmup', fraction: 1 - (warmEnd - Date.now()) / (opts.warmupSec * 1000), up: p.up, failed: p.failed, lossRatio: 0, serverCpuCores: null });
			await sleep(Math.min(500, Math.max(0, warmEnd - Date.now())));
		}
		await Promise.all(gens.map((g) => g.reset()));
		const pid = target.pid;
		const procA = pid !== null ? sampleProc(pid) : null;
		const mixerA = await target.mixer();
		const timeline: StepResult['timeline'] = [];
		const t0 = Date.now();
		const windowMs = opts.durationSec * 1000;
		let last: ProcSample | null = procA;
		while (Date.now() - t0 < windowMs) {
			await sleep(Math.min(1000, Math.max(0, windowMs - (Date.now() - t0))));
			const p = await poll();
			const now = pid !== null ? sampleProc(pid) : null;
			const cpu = last && now ? cpuBetween(last, now) : null;
			if (now) {
				last = now;
			}
			const lossRatio = p.expected > 0 ? p.lost / p.expected : 0;
			timeline.push({ t: (Date.now() - t0) / 1000, cpuCores: cpu?.cores ?? 0, rssMb: now ? now.rssKb / 1024 : 0, lossRatio });
			progress({ phase: 'measuring', fraction: Math.min(1, (Date.now() - t0) / windowMs), up: p.up, failed: p.failed, lossRatio, serverCpuCores: cpu?.cores ?? null });
		}
		const reports = await Promise.all(gens.map((g) => g.collect()));
		const procB = pid !== null ? sampleProc(pid) : null;
		const mixerB = await target.mixer();

		progress({ phase: 'hangup', fraction: 0, up: 0, failed: 0, lossRatio: 0, serverCpuCores: null });
		if (target.sip) {
			await Promise.all(gens.map((g) => g.hangup()));
		} else {
			await Promise.all(gens.map((g) => g.stopMedia()));
			await target.leaveAll?.();
		}
		const result = analyse({
			opts,
			rooms,
			perRoom,
			reports,
			specs,
			procA,
			procB,
			mixerA,
			mixerB,
			pid,
			timeline,
			joinSetup,
			joinFailures,
			processes: nGen,
		});
		progress({ phase: 'done', fraction: 1, up: 0, failed: 0, lossRatio: result.packets.lossRatio, serverCpuCores: result.server?.cpuCores ?? null });
		return result;
	} finally {
		await Promise.all(gens.map((g) => g.close().catch(() => {})));
	}
}

function sumProgress(list: Progress[]): Progress {
	const s: Progress = { calling: 0, up: 0, failed: 0, ended: 0, rxPackets: 0, txPackets: 0, lost: 0, expected: 0 };
	for (const p of list) {
		s.calling += p.calling;
		s.up += p.up;
		s.failed += p.failed;
		s.ended += p.ended;
		s.rxPackets += p.rxPackets;
		s.txPackets += p.txPackets;
		s.lost += p.lost;
		s.expected += p.expected;
	}
	return s;
}

interface AnalyseInput {
	opts: BenchOptions;
	rooms: number;
	perRoom: number;
	reports: GeneratorReport[];
	specs: ParticipantSpec[];
	procA: ProcSample | null;
	procB: ProcSample | null;
	mixerA: MixerFigures | null;
	mixerB: MixerFigures | null;
	pid: number | null;
	timeline: StepResult['timeline'];
	joinSetup: Map<string, number> | null;
	joinFailures: Map<string, string> | null;
	processes: number;
}

/** Turns the generators' raw reports into a StepResult (pure: no I/O). */
export function analyse(x: AnalyseInput): StepResult {
	const { opts, rooms, perRoom, reports } = x;
	const total = rooms * perRoom;
	const parts = reports.flatMap((r) => r.participants);
	const markersByRoom = new Map<number, MarkerSend[]>();
	for (const r of reports) {
		for (const m of r.markers) {
			let list = markersByRoom.get(m.room);
			if (!list) {
				list = [];
				markersByRoom.set(m.room, list);
			}
			list.push({ at: m.at, from: m.from });
		}
	}
	const failures: Record<string, number> = {};
	const setup: number[] = [];
	let ok = 0;
	let remoteHangups = 0;
	for (const p of parts) {
		const failure = x.joinFailures?.get(p.id) ?? p.failure;
		if (p.ok && !x.joinFailures?.has(p.id)) {
			ok++;
		} else {
			const k = failure ?? 'not connected';
			failures[k] = (failures[k] ?? 0) + 1;
		}
		const s = x.joinSetup?.get(p.id) ?? p.setupMs;
		if (s !== null && s !== undefined) {
			setup.push(s);
		}
		if (p.remoteBye) {
			remoteHangups++;
		}
	}
	let sent = 0;
	let expected = 0;
	let received = 0;
	let lost = 0;
	let behind = 0;
	let late = 0;
	let duplicates = 0;
	let reordered = 0;
	let worst = 0;
	const jitter: number[] = [];
	const gaps: number[] = [];
	for (const p of parts) {
		sent += p.sent;
		// A participant whose call failed expected nothing: it is counted under calls, not packets.
		if (!p.ok) {
			continue;
		}
		expected += p.rx.expected;
		received += p.rx.received;
		lost += p.rx.lost;
		behind += p.rx.behind;
		late += p.rx.late;
		duplicates += p.rx.duplicates;
		reordered += p.rx.reordered;
		worst = Math.max(worst, p.rx.lossRatio);
		jitter.push(p.rx.jitterMs);
		gaps.push(p.rx.maxGapMs);
	}
	// Markers: only those whose delay window closed inside the measurement window count as missed.
	const maxDelay = Math.min(500, opts.markerIntervalMs * 0.8);
	// The earliest collect time over all generators: a marker sent later than maxDelay before it could not be heard yet.
	const windowEnd = Math.min(...reports.map((r) => r.windowStart + r.windowMs));
	const delays: number[] = [];
	const hearing: ParticipantHearing[] = [];
	let heard = 0;
	let missed = 0;
	let selfHeard = 0;
	let spurious = 0;
	let markersSent = 0;
	for (const list of markersByRoom.values()) {
		markersSent += list.length;
	}
	for (const p of parts) {
		if (!p.probe || !p.ok) {
			continue;
		}
		const all = markersByRoom.get(p.room) ?? [];
		const sends = all.filter((m) => m.at + maxDelay <= windowEnd);
		const m = matchMarkers(sends, p.onsets, p.id, maxDelay);
		delays.push(...m.delays);
		heard += m.delays.length;
		missed += m.missed;
		selfHeard += m.selfHeard;
		spurious += m.spurious;
		// Who was heard: pair each delay back to its sender.
		const heardFrom = new Set<string>();
		const sorted = [...sends].sort((a, b) => a.at - b.at);
		for (const s of sorted) {
			if (s.from !== p.id && p.onsets.some((o) => o >= s.at - 2 && o <= s.at + maxDelay)) {
				heardFrom.add(s.from);
			}
		}
		hearing.push({ id: p.id, heardFrom: [...heardFrom].sort(), missed: m.missed, selfHeard: m.selfHeard, spurious: m.spurious });
	}

	let server: StepResult['server'] = null;
	if (x.procA && x.procB) {
		const cpu = cpuBetween(x.procA, x.procB);
		const frames = (cpu.wallMs / 20) * Math.max(1, ok);
		server = {
			pid: x.pid,
			cpuUserMs: cpu.userMs,
			cpuSystemMs: cpu.systemMs,
			cpuCores: cpu.cores,
			maxThreadCores: cpu.maxThread,
			cpuUsPerParticipantFrame: ((cpu.userMs + cpu.systemMs) * 1000) / frames,
			rssMb: x.procB.rssKb / 1024,
			threads: x.procB.threads,
			machineBusy: cpu.machineBusy,
		};
	}
	let mixer: StepResult['mixer'] = null;
	if (x.mixerB) {
		const { cumulative: _c, ...figures } = x.mixerB;
		mixer = { ...figures, overrunsInWindow: x.mixerB.overruns - (x.mixerA?.overruns ?? 0) };
		const h = windowHistogram(x.mixerA?.cumulative, x.mixerB.cumulative);
		if (h) {
			mixer.histogram = h;
		}
	}
	let genCpu = 0;
	let latP99 = 0;
	let latMax = 0;
	let skipped = 0;
	let sendErrors = 0;
	let windowMs = 0;
	for (const r of reports) {
		genCpu += (r.cpuUserMs + r.cpuSystemMs) / Math.max(1, r.windowMs);
		latP99 = Math.max(latP99, r.tickLateness.p99);
		latMax = Math.max(latMax, r.tickLateness.max);
		skipped += r.skippedFrames;
		sendErrors += r.sendErrors;
		windowMs = Math.max(windowMs, r.windowMs);
	}

	const lossRatio = expected > 0 ? lost / expected : ok === 0 ? 1 : 0;
	const reasons: string[] = [];
	if (ok < total) {
		reasons.push(`${total - ok} of ${total} calls failed`);
	}
	if (lossRatio > opts.maxLossRatio) {
		reasons.push(`loss ${(lossRatio * 100).toFixed(2)}% > ${(opts.maxLossRatio * 100).toFixed(2)}%`);
	}
	if (mixer && mixer.tickP99Us / 1000 > opts.maxTickP99Ms) {
		reasons.push(`mixer tick p99 ${(mixer.tickP99Us / 1000).toFixed(2)} ms > ${opts.maxTickP99Ms} ms`);
	}
	if (server && (server.maxThreadCores >= 0.95 || server.cpuCores >= 0.95 * os.cpus().length)) {
		reasons.push(`server CPU saturated (${server.cpuCores.toFixed(2)} cores, busiest thread ${(server.maxThreadCores * 100).toFixed(0)}%)`);
	} else if (server && server.machineBusy >= opts.maxMachineBusy && server.cpuCores + genCpu >= 0.85 * os.cpus().length) {
		reasons.push(`machine CPU saturated (${(server.machineBusy * 100).toFixed(1)}% busy: server ${server.cpuCores.toFixed(2)} + generator ${genCpu.toFixed(2)} cores)`);
	}
	if (latP99 > opts.maxGeneratorLateMs) {
		reasons.push(`generator starved (20 ms timer p99 ${latP99.toFixed(1)} ms late)`);
	}
	return {
		rooms,
		participantsPerRoom: perRoom,
		participants: total,
		codec: opts.codec,
		talkers: opts.talkers,
		windowSec: windowMs / 1000,
		calls: { attempted: total, ok, failed: total - ok, failures, setupMs: summarize(setup), remoteHangups },
		packets: {
			sent,
			expected,
			received,
			lost,
			lossRatio,
			behind,
			late,
			lateRatio: received > 0 ? late / received : 0,
			duplicates,
			reordered,
			worstLossRatio: worst,
		},
		jitterMs: summarize(jitter),
		maxGapMs: summarize(gaps),
		delay: { ms: summarize(delays), histogram: delayHistogram(delays), markersSent, heard, missed, selfHeard, spurious },
		hearing,
		server,
		mixer,
		generator: { processes: x.processes, cpuCores: genCpu, tickLatenessP99Ms: latP99, tickLatenessMaxMs: latMax, skippedFrames: skipped, sendErrors },
		timeline: x.timeline,
		verdict: { ok: reasons.length === 0, reasons },
	};
}

/**
 * The whole bench: for each target in opts.target (comma-separated, e.g.
 * 'self,janus'), one load level, or with maxParticipants set the capacity
 * search; then the comparison of the first two targets.
 */
export async function runBench(partial: Partial<CapacityOptions> = {}): Promise<BenchResult> {
	const opts: CapacityOptions = { ...DEFAULTS, maxParticipants: 0, ...partial };
	const startedAt = new Date().toISOString();
	const capacity = opts.maxParticipants > 0;
	const runs: TargetRun[] = [];
	for (const name of opts.target.split(',').map((t) => t.trim()).filter(Boolean)) {
		const report = opts.onProgress;
		const o: CapacityOptions = { ...opts, target: name };
		if (report) {
			o.onProgress = (p) => report({ ...p, target: name });
		}
		try {
			runs.push(capacity ? await findCapacity(o) : await runSingle(o));
		} catch (error) {
			if (opts.target.includes(',')) {
				runs.push({ target: name, steps: [], capacity: null, error: error instanceof Error ? error.message : String(error) });
			} else {
				throw error;
			}
		}
	}
	return { version: 1, startedAt, host: hostInfo(), options: strip(opts), mode: capacity ? 'capacity' : 'single', runs, comparison: compare(runs) };
}

export function compare(runs: TargetRun[]): Comparison | null {
	const [a, b] = runs;
	if (!a || !b || a.steps.length === 0 || b.steps.length === 0) {
		return null;
	}
	const last = (r: TargetRun): StepResult => r.capacity?.step ?? r.steps[r.steps.length - 1]!;
	const sa = last(a);
	const sb = last(b);
	const ca = sa.server?.cpuUsPerParticipantFrame;
	const cb = sb.server?.cpuUsPerParticipantFrame;
	return {
		a: a.target,
		b: b.target,
		capacityRatio: a.capacity && b.capacity ? a.capacity.participants / b.capacity.participants : null,
		cpuPerParticipantRatio: ca && cb ? cb / ca : null,
		lossA: sa.packets.lossRatio,
		lossB: sb.packets.lossRatio,
	};
}

/** One load level against one target: start it, run, stop. */
export async function runSingle(opts: BenchOptions): Promise<TargetRun> {
	const target = await startTarget(opts, opts.rooms);
	try {
		const step = await runStep(target, opts, opts.rooms, opts.participants);
		return { target: target.name, steps: [step], capacity: null };
	} finally {
		await target.stop();
	}
}

/**
 * Capacity mode: grow the load (rooms of `participants`, or participants in
 * a single room when rooms = 1) by `growth` per step until a limit breaks or
 * maxParticipants is reached, then bisect between the last good and the
 * first bad load twice. Reports the largest load that held.
 */
export async function findCapacity(opts: CapacityOptions): Promise<TargetRun> {
	const growth = opts.growth ?? 1.5;
	const singleRoom = opts.rooms === 1;
	const unit = singleRoom ? 1 : opts.participants;
	const maxUnits = Math.max(1, Math.floor(opts.maxParticipants / unit));
	const startUnits = singleRoom ? opts.participants : opts.rooms;
	const target = await startTarget(opts, singleRoom ? 1 : maxUnits);
	const steps: StepResult[] = [];
	let best: StepResult | null = null;
	const runUnits = async (units: number): Promise<StepResult> => {
		const r = singleRoom ? await runStep(target, opts, 1, units, steps.length) : await runStep(target, opts, units, opts.participants, steps.length);
		steps.push(r);
		if (r.verdict.ok && (!best || r.participants > best.participants)) {
			best = r;
		}
		await sleep(1500);
		return r;
	};
	try {
		let good = 0;
		let bad = 0;
		let units = Math.min(startUnits, maxUnits);
		for (;;) {
			if (!target.alive()) {
				break;
			}
			const r = await runUnits(units);
			if (!r.verdict.ok) {
				bad = units;
				break;
			}
			good = units;
			if (units >= maxUnits) {
				break;
			}
			units = Math.min(maxUnits, Math.max(units + 1, Math.round(units * growth)));
		}
		for (let i = 0; i < 2 && bad > 0 && bad - good > 1 && target.alive(); i++) {
			const mid = Math.round((good + bad) / 2);
			const r = await runUnits(mid);
			if (r.verdict.ok) {
				good = mid;
			} else {
				bad = mid;
			}
		}
	} finally {
		await target.stop();
	}
	const held = best as StepResult | null;
	return { target: target.name, steps, capacity: held ? { participants: held.participants, rooms: held.rooms, step: held } : null };
}

/**
 * Per-bucket tick counts in the window from two cumulative (Prometheus-style)
 * snapshots: counts[i] = ticks ≤ boundsUs[i] since start; one more bucket for
 * the ticks above the last bound.
 */
export function windowHistogram(
	a: MixerFigures['cumulative'] | undefined,
	b: MixerFigures['cumulative'] | undefined,
): { boundsUs: number[]; counts: number[] } | null {
	if (!b) {
		return null;
	}
	const n = b.boundsUs.length;
	const same = a && a.boundsUs.length === n && a.boundsUs.every((v, i) => v === b.boundsUs[i]);
	const cum = (h: NonNullable<typeof a>, i: number): number => (i < n ? (h.counts[i] ?? 0) : h.count);
	const before = (i: number): number => (a && same ? cum(a, i) : 0);
	const counts: number[] = [];
	for (let i = 0; i <= n; i++) {
		const upto = cum(b, i) - before(i);
		const below = i === 0 ? 0 : cum(b, i - 1) - before(i - 1);
		counts.push(Math.max(0, upto - below));
	}
	return { boundsUs: [...b.boundsUs], counts };
}

/** Buckets of 2, 5, 10 or 20 ms, whichever covers the largest delay in at most 60 buckets. */
export function delayHistogram(delays: number[]): { bounds: number[]; counts: number[] } {
	const max = delays.reduce((m, d) => Math.max(m, d), 0);
	const width = [2, 5, 10, 20].find((w) => max <= 50 * w) ?? 20;
	const n = Math.max(10, Math.min(60, Math.ceil(max / width)));
	const h = new Histogram(Array.from({ length: n }, (_, i) => width * (i + 1)));
	for (const d of delays) {
		h.record(d);
	}
	const j = h.toJSON();
	return { bounds: j.bounds, counts: j.counts };
}

function hostInfo(): BenchResult['host'] {
	const cpus = os.cpus();
	return { cpus: cpus.length, model: cpus[0]?.model ?? '', node: process.version, platform: `${os.platform()} ${os.release()}` };
}

function strip<T extends { onProgress?: unknown }>(o: T): Omit<T, 'onProgress'> {
	const { onProgress: _ignored, ...rest } = o;
	return rest;
}
