import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildParticipants, compare, delayHistogram, parseCodec, parseTalkers, windowHistogram, type TargetRun } from '../../../bench/run.js';

test('--talkers and --codec parsing', () => {
	assert.equal(parseTalkers('all'), 'all');
	assert.equal(parseTalkers('bursts'), 'bursts');
	assert.equal(parseTalkers('3'), 3);
	assert.throws(() => parseTalkers('x'), TypeError);
	assert.equal(parseCodec('PCMA'), 'pcma');
	assert.throws(() => parseCodec('g729'), TypeError);
});

test('participants: K talkers send markers in turn, the rest silence; probes are a talker and listeners', () => {
	const specs = buildParticipants(2, 10, 3, 2, 50, (r) => `9${r}`);
	assert.equal(specs.length, 20);
	const room1 = specs.filter((s) => s.room === 1);
	assert.deepEqual(room1.filter((s) => s.signal === 'tone').map((s) => s.markerSlot), [0, 1, 2]);
	assert.ok(room1.every((s) => s.markerSenders === 3 && s.dial === '91'));
	assert.ok(room1.filter((s) => s.signal === 'silence').every((s) => s.markerSlot === -1));
	assert.deepEqual(room1.filter((s) => s.probe).map((s) => s.id), ['r1p0', 'r1p9']);
	assert.equal(new Set(specs.map((s) => s.id)).size, 20);
	const all = buildParticipants(1, 4, 'all', 0, 50, () => '1');
	assert.ok(all.every((s) => s.signal === 'tone' && s.markerSenders === 4 && !s.probe));
	assert.equal(new Set(all.map((s) => s.toneHz)).size, 4);
	assert.ok(buildParticipants(1, 4, 'bursts', 1, 50, () => '1').every((s) => s.signal === 'bursts'));
});

test('window tick histogram from two cumulative snapshots', () => {
	const a = { boundsUs: [100, 1000, 10_000], counts: [5, 8, 9], count: 10 };
	const b = { boundsUs: [100, 1000, 10_000], counts: [15, 28, 39], count: 42 };
	assert.deepEqual(windowHistogram(a, b), { boundsUs: [100, 1000, 10_000], counts: [10, 10, 10, 2] });
	assert.deepEqual(windowHistogram(undefined, b), { boundsUs: [100, 1000, 10_000], counts: [15, 13, 11, 3] });
	assert.equal(windowHistogram(a, undefined), null);
});

test('comparison of two capacity runs', () => {
	const step = (participants: number, us: number): TargetRun['steps'][number] =>
		({ participants, packets: { lossRatio: 0.001 }, server: { cpuUsPerParticipantFrame: us } }) as unknown as TargetRun['steps'][number];
	const a: TargetRun = { target: 'self', steps: [step(1800, 10)], capacity: { participants: 1800, rooms: 180, step: step(1800, 10) } };
	const b: TargetRun = { target: 'janus', steps: [step(600, 40)], capacity: { participants: 600, rooms: 60, step: step(600, 40) } };
	const c = compare([a, b])!;
	assert.equal(c.capacityRatio, 3);
	assert.equal(c.cpuPerParticipantRatio, 4);
	assert.equal(compare([a]), null);
});

test('delay histogram picks a bucket width that covers the largest delay', () => {
	const small = delayHistogram([21, 23, 25, 41]);
	assert.equal(small.bounds[0], 2);
	assert.equal(small.counts.reduce((a, b) => a + b, 0), 4);
	assert.equal(small.counts[small.counts.length - 1], 0, 'nothing in overflow');
	const big = delayHistogram([130, 480]);
	assert.equal(big.bounds[0], 10);
	assert.equal(big.counts[big.counts.length - 1], 0);
});
