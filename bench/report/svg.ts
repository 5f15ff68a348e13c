/**
 * Tiny SVG chart builders for the HTML report: no external assets, no
 * scripts, just markup.
 */

export interface Series {
	name: string;
	points: Array<[number, number]>;
}

export interface LineChartOptions {
	title: string;
	xLabel: string;
	yLabel: string;
	series: Series[];
	width?: number;
	height?: number;
	/** Horizontal reference line (e.g. a limit). */
	limit?: { y: number; label: string };
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

export function esc(s: string): string {
	return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round-number ticks covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
	if (!(hi > lo)) {
		hi = lo + 1;
	}
	const raw = (hi - lo) / count;
	const mag = 10 ** Math.floor(Math.log10(raw));
	const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
	const out: number[] = [];
	const end = Math.ceil(hi / step - 1e-9) * step;
	for (let v = Math.floor(lo / step) * step; v <= end + step * 1e-9; v += step) {
		out.push(Number(v.toPrecision(12)));
	}
	return out;
}

function fmt(v: number): string {
	return Math.abs(v) >= 1000 ? v.toFixed(0) : Number(v.toPrecision(3)).toString();
}

export function lineChart(o: LineChartOptions): string {
	const W = o.width ?? 560;
	const H = o.height ?? 300;
	const m = { l: 60, r: 20, t: 30, b: 45 };
	const all = o.series.flatMap((s) => s.points);
	if (all.length === 0) {
		return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="60"><text x="10" y="30" font-size="13">${esc(o.title)}: no data</text></svg>`;
	}
	const xs = all.map((p) => p[0]);
	const ys = all.map((p) => p[1]);
	if (o.limit) {
		ys.push(o.limit.y);
	}
	const xt = niceTicks(Math.min(...xs, 0), Math.max(...xs));
	const yt = niceTicks(0, Math.max(...ys) * 1.05 || 1);
	const x0 = xt[0]!;
	const x1 = xt[xt.length - 1]!;
	const y1 = yt[yt.length - 1]!;
	const px = (x: number): number => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
	const py = (y: number): number => H - m.b - (y / (y1 || 1)) * (H - m.t - m.b);
	const parts: string[] = [];
	parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`);
	parts.push(`<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(o.title)}</text>`);
	for (const t of yt) {
		parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${py(t)}" y2="${py(t)}" stroke="#eee"/>`);
		parts.push(`<text x="${m.l - 6}" y="${py(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
	}
	for (const t of xt) {
		parts.push(`<line x1="${px(t)}" x2="${px(t)}" y1="${m.t}" y2="${H - m.b}" stroke="#f4f4f4"/>`);
		parts.push(`<text x="${px(t)}" y="${H - m.b + 15}" text-anchor="middle">${fmt(t)}</text>`);
	}
	parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/>`);
	parts.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/>`);
	parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle">${esc(o.xLabel)}</text>`);
	parts.push(`<text transform="translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
	if (o.limit) {
		parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${py(o.limit.y)}" y2="${py(o.limit.y)}" stroke="#999" stroke-dasharray="4 3"/>`);
		parts.push(`<text x="${W - m.r - 4}" y="${py(o.limit.y) - 4}" text-anchor="end" fill="#666">${esc(o.limit.label)}</text>`);
	}
	o.series.forEach((s, i) => {
		const c = COLORS[i % COLORS.length]!;
		const pts = [...s.points].sort((a, b) => a[0] - b[0]);
		if (pts.length > 1) {
			parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ')}"/>`);
		}
		for (const p of pts) {
			parts.push(`<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="3" fill="${c}"><title>${esc(s.name)}: ${fmt(p[0])}, ${fmt(p[1])}</title></circle>`);
		}
		parts.push(`<rect x="${m.l + 10}" y="${m.t + 4 + i * 16}" width="10" height="10" fill="${c}"/>`);
		parts.push(`<text x="${m.l + 24}" y="${m.t + 13 + i * 16}">${esc(s.name)}</text>`);
	});
	parts.push('</svg>');
	return parts.join('');
}

export interface HistogramOptions {
	title: string;
	xLabel: string;
	/** Upper bounds of the buckets; counts has one more entry (overflow). */
	bounds: number[];
	counts: number[];
	width?: number;
	height?: number;
}

export function histogramChart(o: HistogramOptions): string {
	const W = o.width ?? 560;
	const H = o.height ?? 260;
	const m = { l: 55, r: 15, t: 30, b: 45 };
	const n = o.counts.length;
	const max = Math.max(1, ...o.counts);
	const bw = (W - m.l - m.r) / Math.max(1, n);
	const parts: string[] = [];
	parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`);
	parts.push(`<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(o.title)}</text>`);
	for (const t of niceTicks(0, max)) {
		const y = H - m.b - (t / max) * (H - m.t - m.b);
		if (y >= m.t - 1) {
			parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${m.l - 6}" y="${y + 4}" text-anchor="end">${fmt(t)}</text>`);
		}
	}
	const labelEvery = Math.max(1, Math.ceil(n / 10));
	for (let i = 0; i < n; i++) {
		const h = (o.counts[i]! / max) * (H - m.t - m.b);
		const x = m.l + i * bw;
		const label = i < o.bounds.length ? `≤${fmt(o.bounds[i]!)}` : `>${fmt(o.bounds[o.bounds.length - 1] ?? 0)}`;
		parts.push(`<rect x="${(x + 1).toFixed(1)}" y="${(H - m.b - h).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="#1f77b4"><title>${esc(label)}: ${o.counts[i]}</title></rect>`);
		if (i % labelEvery === 0) {
			parts.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${H - m.b + 14}" text-anchor="middle">${esc(label)}</text>`);
		}
	}
	parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/>`);
	parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle">${esc(o.xLabel)}</text>`);
	parts.push('</svg>');
	return parts.join('');
}
