/**
 * The HTML report: one self-contained file (inline CSS and SVG, no scripts,
 * no external assets) with the summary table, CPU and loss versus
 * participants, per-participant cost, mixer tick times, the delay histogram
 * and the server's CPU over time.
 */
import type { BenchResult, StepResult } from '../run.js';
import { ROWS } from './table.js';
import { esc, histogramChart, lineChart, type Series } from './svg.js';

function seriesOf(result: BenchResult, y: (s: StepResult) => number | null): Series[] {
	return result.runs.map((run) => ({
		name: run.target,
		points: run.steps.flatMap((s): Array<[number, number]> => {
			const v = y(s);
			return v === null || !Number.isFinite(v) ? [] : [[s.participants, v]];
		}),
	}));
}

export function renderHtml(result: BenchResult): string {
	const o = result.options;
	const charts: string[] = [];
	charts.push(
		lineChart({
			title: 'Server CPU vs participants',
			xLabel: 'participants',
			yLabel: 'CPU (cores)',
			series: seriesOf(result, (s) => s.server?.cpuCores ?? null),
			limit: { y: result.host.cpus, label: `${result.host.cpus} cores` },
		}),
	);
	charts.push(
		lineChart({
			title: 'Packet loss vs participants',
			xLabel: 'participants',
			yLabel: 'loss (%)',
			series: seriesOf(result, (s) => s.packets.lossRatio * 100),
			limit: { y: o.maxLossRatio * 100, label: `limit ${(o.maxLossRatio * 100).toFixed(1)}%` },
		}),
	);
	charts.push(
		lineChart({
			title: 'Server CPU per participant per 20 ms frame',
			xLabel: 'participants',
			yLabel: 'µs',
			series: seriesOf(result, (s) => s.server?.cpuUsPerParticipantFrame ?? null),
		}),
	);
	const tickSeries: Series[] = [];
	for (const run of result.runs) {
		for (const [k, name] of [
			['tickP50Us', 'p50'],
			['tickP99Us', 'p99'],
			['tickMaxUs', 'max'],
		] as const) {
			const pts = run.steps.filter((s) => s.mixer).map((s): [number, number] => [s.participants, s.mixer![k] / 1000]);
			if (pts.length > 0) {
				tickSeries.push({ name: `${run.target} ${name}`, points: pts });
			}
		}
	}
	if (tickSeries.length > 0) {
		charts.push(lineChart({ title: 'Mixer tick time vs participants', xLabel: 'participants', yLabel: 'ms', series: tickSeries, limit: { y: o.maxTickP99Ms, label: `p99 limit ${o.maxTickP99Ms} ms` } }));
	}
	for (const run of result.runs) {
		const s = run.capacity?.step ?? run.steps[run.steps.length - 1];
		if (s?.mixer?.histogram) {
			charts.push(histogramChart({ title: `${run.target}: mixer tick time histogram (${s.participants} participants)`, xLabel: 'tick duration (µs)', bounds: s.mixer.histogram.boundsUs, counts: s.mixer.histogram.counts }));
		}
		if (s && s.delay.histogram.counts.some((c) => c > 0)) {
			charts.push(histogramChart({ title: `${run.target}: delay through the server (${s.participants} participants)`, xLabel: 'marker delay (ms)', bounds: s.delay.histogram.bounds, counts: s.delay.histogram.counts }));
		}
		if (s && s.timeline.length > 1) {
			charts.push(
				lineChart({
					title: `${run.target}: server CPU and loss over the window (${s.participants} participants)`,
					xLabel: 's',
					yLabel: 'CPU % of a core / loss ‰',
					series: [
						{ name: 'CPU %', points: s.timeline.map((t) => [t.t, t.cpuCores * 100]) },
						{ name: 'loss ‰', points: s.timeline.map((t) => [t.t, t.lossRatio * 1000]) },
					],
				}),
			);
		}
	}

	const cols: Array<{ title: string; step: StepResult }> = [];
	for (const run of result.runs) {
		run.steps.forEach((step, i) => cols.push({ title: run.steps.length > 1 ? `${run.target} #${i + 1}` : run.target, step }));
	}
	const table = [
		'<table><thead><tr><th></th>',
		...cols.map((c) => `<th>${esc(c.title)}</th>`),
		'</tr></thead><tbody>',
		...ROWS.map(([k, fn]) => `<tr><th>${esc(k)}</th>${cols.map((c) => `<td class="${k === 'verdict' ? (c.step.verdict.ok ? 'ok' : 'bad') : ''}">${esc(fn(c.step))}</td>`).join('')}</tr>`),
		'</tbody></table>',
	].join('');
	const summary: string[] = [];
	for (const run of result.runs) {
		if (run.error) {
			summary.push(`<li><b>${esc(run.target)}</b>: not run: ${esc(run.error)}</li>`);
		} else if (result.mode === 'capacity') {
			summary.push(
				run.capacity
					? `<li><b>${esc(run.target)}</b>: capacity <b>${run.capacity.participants}</b> participants (${run.capacity.rooms} rooms)</li>`
					: `<li><b>${esc(run.target)}</b>: even the first step broke a limit</li>`,
			);
		}
	}
	const c = result.comparison;
	if (c?.capacityRatio != null) {
		summary.push(`<li>${esc(c.a)} carries <b>${c.capacityRatio.toFixed(2)}×</b> the participants of ${esc(c.b)}</li>`);
	}
	if (c?.cpuPerParticipantRatio != null) {
		summary.push(`<li>${esc(c.b)} spends <b>${c.cpuPerParticipantRatio.toFixed(2)}×</b> the CPU per participant of ${esc(c.a)}</li>`);
	}
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>confsrv bench ${esc(result.startedAt)}</title>
<style>
body{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;font-size:13px;margin:12px 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
thead th{background:#f4f4f4}
td.ok{color:#080;font-weight:bold} td.bad{color:#b00;font-weight:bold}
.charts{display:flex;flex-wrap:wrap;gap:16px}
.charts svg{border:1px solid #eee;background:#fff}
code{background:#f4f4f4;padding:1px 4px}
</style></head><body>
<h1>confsrv bench</h1>
<p>${esc(result.startedAt)} · ${esc(result.mode)} · targets ${esc(result.runs.map((r) => r.target).join(', '))} ·
${result.host.cpus} × ${esc(result.host.model)} · Node ${esc(result.host.node)} · ${esc(result.host.platform)}</p>
<p>codec <code>${esc(o.codec)}</code>, talkers <code>${esc(String(o.talkers))}</code>, window ${o.durationSec} s after ${o.warmupSec} s warm-up,
limits: loss ≤ ${(o.maxLossRatio * 100).toFixed(1)}%, mixer tick p99 ≤ ${o.maxTickP99Ms} ms, no CPU saturation.</p>
${summary.length ? `<ul>${summary.join('')}</ul>` : ''}
${table}
<div class="charts">${charts.join('\n')}</div>
<p style="color:#666;font-size:12px">Figures are explained in docs/bench.md. The raw result is result.json beside this file.</p>
</body></html>
`;
}
