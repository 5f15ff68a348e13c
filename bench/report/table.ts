/**
 * The summary table printed on stdout: one column per step (load level) and
 * target, one row per figure, then the capacity and the comparison.
 */
import type { BenchResult, StepResult, TargetRun } from '../run.js';

const f1 = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '-');
const f2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '-');
const pct = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(3)}%` : '-');

export const ROWS: Array<[string, (s: StepResult) => string]> = [
	['participants (rooms × size)', (s) => `${s.participants} (${s.rooms}×${s.participantsPerRoom})`],
	['codec / talkers', (s) => `${s.codec} / ${s.talkers}`],
	['calls ok / failed', (s) => `${s.calls.ok} / ${s.calls.failed}`],
	['call setup p50 / p99 ms', (s) => `${f1(s.calls.setupMs.p50)} / ${f1(s.calls.setupMs.p99)}`],
	['packets expected', (s) => String(s.packets.expected)],
	['packets received', (s) => String(s.packets.received)],
	['packets lost (ratio)', (s) => `${s.packets.lost} (${pct(s.packets.lossRatio)})`],
	['  of which never sent (behind)', (s) => String(s.packets.behind)],
	['worst participant loss', (s) => pct(s.packets.worstLossRatio)],
	['packets late / dup / reordered', (s) => `${s.packets.late} / ${s.packets.duplicates} / ${s.packets.reordered}`],
	['jitter p50 / p99 ms', (s) => `${f2(s.jitterMs.p50)} / ${f2(s.jitterMs.p99)}`],
	['delay p50 / p99 ms', (s) => (s.delay.ms.count > 0 ? `${f1(s.delay.ms.p50)} / ${f1(s.delay.ms.p99)}` : '-')],
	['markers heard / missed / echo', (s) => `${s.delay.heard} / ${s.delay.missed} / ${s.delay.selfHeard}`],
	['mixer tick p50 / p99 / max µs', (s) => (s.mixer ? `${s.mixer.tickP50Us.toFixed(0)} / ${s.mixer.tickP99Us.toFixed(0)} / ${s.mixer.tickMaxUs.toFixed(0)}` : 'n/a')],
	['mixer overruns (window)', (s) => (s.mixer ? String(s.mixer.overrunsInWindow) : 'n/a')],
	['server CPU cores (busiest thread)', (s) => (s.server ? `${f2(s.server.cpuCores)} (${(s.server.maxThreadCores * 100).toFixed(0)}%)` : 'n/a')],
	['server CPU µs / participant / frame', (s) => (s.server ? f1(s.server.cpuUsPerParticipantFrame) : 'n/a')],
	['server RSS MB / threads', (s) => (s.server ? `${f1(s.server.rssMb)} / ${s.server.threads}` : 'n/a')],
	['machine busy', (s) => (s.server ? pct(s.server.machineBusy) : 'n/a')],
	['generator CPU cores / procs', (s) => `${f2(s.generator.cpuCores)} / ${s.generator.processes || 'in-process'}`],
	['generator timer late p99 / max ms', (s) => `${f1(s.generator.tickLatenessP99Ms)} / ${f1(s.generator.tickLatenessMaxMs)}`],
	['verdict', (s) => (s.verdict.ok ? 'ok' : `FAIL: ${s.verdict.reasons.join('; ')}`)],
];

function pad(s: string, n: number): string {
	return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** Columns: every step of every run. */
export function formatTable(result: BenchResult): string {
	const cols: Array<{ title: string; step: StepResult }> = [];
	for (const run of result.runs) {
		run.steps.forEach((step, i) => cols.push({ title: run.steps.length > 1 ? `${run.target} #${i + 1}` : run.target, step }));
	}
	const lines: string[] = [];
	if (cols.length > 0) {
		const keyW = Math.max(...ROWS.map(([k]) => k.length));
		const cells = ROWS.map(([, fn]) => cols.map((c) => fn(c.step)));
		const widths = cols.map((c, i) => Math.min(60, Math.max(c.title.length, ...cells.map((row) => row[i]!.length))));
		lines.push([pad('', keyW), ...cols.map((c, i) => pad(c.title, widths[i]!))].join(' │ '));
		lines.push(['─'.repeat(keyW), ...widths.map((w) => '─'.repeat(w))].join('─┼─'));
		ROWS.forEach(([k], r) => {
			lines.push([pad(k, keyW), ...cells[r]!.map((c, i) => pad(c.length > 60 ? c.slice(0, 57) + '...' : c, widths[i]!))].join(' │ '));
		});
	}
	for (const run of result.runs) {
		lines.push(...runSummary(run, result.mode));
	}
	const c = result.comparison;
	if (c) {
		if (c.capacityRatio !== null) {
			lines.push(`ratio: ${c.a} carries ${c.capacityRatio.toFixed(2)}× the participants of ${c.b} at the quality limits`);
		}
		if (c.cpuPerParticipantRatio !== null) {
			lines.push(`ratio: ${c.b} spends ${c.cpuPerParticipantRatio.toFixed(2)}× the CPU per participant of ${c.a}`);
		}
	}
	return lines.join('\n') + '\n';
}

function runSummary(run: TargetRun, mode: BenchResult['mode']): string[] {
	if (run.error) {
		return [`${run.target}: not run: ${run.error}`];
	}
	if (mode !== 'capacity') {
		return [];
	}
	if (!run.capacity) {
		return [`${run.target}: capacity: even the first step broke a limit`];
	}
	const s = run.capacity.step;
	return [
		`${run.target}: capacity ${run.capacity.participants} participants (${s.rooms} rooms × ${s.participantsPerRoom}), ` +
			`loss ${pct(s.packets.lossRatio)}, ` +
			(s.mixer ? `tick p99 ${(s.mixer.tickP99Us / 1000).toFixed(2)} ms, ` : '') +
			(s.server ? `CPU ${f2(s.server.cpuCores)} cores, ${f1(s.server.cpuUsPerParticipantFrame)} µs/participant/frame` : ''),
	];
}
