import { test } from 'node:test';
import assert from 'node:assert/strict';
import { histogramChart, lineChart, niceTicks } from '../../../bench/report/svg.js';
import { parseMachineStat, parseStat, parseStatus } from '../../../bench/target/proc.js';

test('nice ticks cover the range with round steps', () => {
	assert.deepEqual(niceTicks(0, 1200), [0, 500, 1000, 1500]);
	assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
	assert.deepEqual(niceTicks(0, 0), [0, 0.2, 0.4, 0.6, 0.8, 1]);
});

test('charts are standalone SVG and escape labels', () => {
	const svg = lineChart({ title: 'a < b', xLabel: 'x', yLabel: 'y', series: [{ name: 's&p', points: [[1, 2], [3, 4]] }] });
	assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
	assert.match(svg, /a &lt; b/);
	assert.match(svg, /s&amp;p/);
	assert.match(svg, /<polyline/);
	assert.doesNotMatch(svg, /<script|href=/);
	assert.match(lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [] }), /no data/);
	const h = histogramChart({ title: 'h', xLabel: 'µs', bounds: [10, 20], counts: [1, 5, 2] });
	assert.equal((h.match(/<rect/g) ?? []).length, 3);
});

test('/proc parsers', () => {
	// A command name with spaces and a parenthesis, as the kernel writes it.
	const stat = '4242 (node (x) y) S 1 4242 4242 0 -1 4194304 100 0 0 0 1234 567 0 0 20 0 13 0 100 0 0';
	assert.deepEqual(parseStat(stat), { utime: 1234, stime: 567, threads: 13 });
	assert.deepEqual(parseStatus('Name:\tnode\nVmHWM:\t  20480 kB\nVmRSS:\t  10240 kB\n'), { rssKb: 10240, hwmKb: 20480 });
	assert.deepEqual(parseMachineStat('cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3\n'), { busy: 150, total: 1000 });
});
