import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BroadcastChannel } from 'node:worker_threads';
import { MixerError, MixerHost, PcmRing, frameSamplesFor, overrunChannel } from '../../../src/mixer/index.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A media leg stand-in: sends DC `value` and records what it hears. */
class TestLeg {
	readonly id: string;
	readonly value: number;
	readonly input: PcmRing;
	readonly output: PcmRing;
	readonly #frame: Int16Array;
	readonly #buf: Int16Array;
	/** First sample of each received frame. */
	readonly heard: number[] = [];
	/** Frames whose samples were not all equal (a DC mix never does that). */
	uneven = 0;

	constructor(id: string, value: number, sampleRate: number) {
		const fs = frameSamplesFor(sampleRate);
		this.id = id;
		this.value = value;
		this.input = PcmRing.create(8, fs);
		this.output = PcmRing.create(16, fs);
		this.#frame = new Int16Array(fs).fill(value);
		this.#buf = new Int16Array(fs);
	}

	get rings(): { input: PcmRing; output: PcmRing } {
		return { input: this.input, output: this.output };
	}

	/**
	 * Keeps a few frames queued rather than writing exactly one per interval,
	 * so a late timer on a busy machine does not starve the mixer.
	 */
	send(): void {
		while (this.input.available() < 3) {
			this.input.write(this.#frame);
		}
	}

	receive(): void {
		while (this.output.read(this.#buf)) {
			const v = this.#buf[0]!;
			if (!this.#buf.every((x) => x === v)) {
				this.uneven++;
			}
			this.heard.push(v);
		}
	}
}

/** Runs the legs like the media side would: every 20 ms, send and receive. */
async function run(legs: TestLeg[], intervals: number): Promise<void> {
	await new Promise<void>((resolve) => {
		let n = 0;
		const t = setInterval(() => {
			for (const leg of legs) {
				leg.send();
				leg.receive();
			}
			if (++n >= intervals) {
				clearInterval(t);
				resolve();
			}
		}, 20);
	});
}

/** Every sum of a subset of `values`: what a listener may hear while talkers come and go. */
function subsetSums(values: number[]): Set<number> {
	let sums = new Set([0]);
	for (const v of values) {
		sums = new Set([...sums, ...[...sums].map((s) => s + v)]);
	}
	return sums;
}

function mode(xs: number[]): number | undefined {
	const counts = new Map<number, number>();
	for (const x of xs) {
		counts.set(x, (counts.get(x) ?? 0) + 1);
	}
	let best: number | undefined;
	let bestCount = 0;
	for (const [x, c] of counts) {
		if (c > bestCount) {
			best = x;
			bestCount = c;
		}
	}
	return best;
}

/** Waits (without a timing assertion) until a condition holds; the cap only stops a hung test. */
async function until(cond: () => boolean, what: string): Promise<void> {
	const giveUp = Date.now() + 30_000;
	while (!cond()) {
		if (Date.now() > giveUp) {
			throw new Error(`gave up waiting for ${what}`);
		}
		await sleep(5);
	}
}

describe('MixerHost with a real worker', () => {
	it('gives each participant the sum of the others (N-1), in rooms of different rates', async () => {
		const host = await MixerHost.create({});
		try {
			await host.createRoom('narrow', 8000);
			await host.createRoom('wide', 48000);
			const narrow = [0, 1, 2].map((i) => new TestLeg(`n${i}`, 1000 * (i + 1), 8000));
			const wide = [new TestLeg('w0', 700, 48000), new TestLeg('w1', -300, 48000)];
			for (const leg of narrow) {
				await host.addParticipant('narrow', leg.id, leg.rings);
			}
			for (const leg of wide) {
				await host.addParticipant('wide', leg.id, leg.rings);
			}
			const legs = [...narrow, ...wide];
			// Start from a full room: queue input first, then forget what was mixed while joining.
			for (const leg of legs) {
				leg.send();
			}
			for (const leg of legs) {
				leg.output.clear();
			}
			await run(legs, 50);

			for (const [room, members] of [
				['narrow', narrow],
				['wide', wide],
			] as const) {
				for (const leg of members) {
					const others = members.filter((m) => m !== leg).map((m) => m.value);
					const full = others.reduce((a, b) => a + b, 0);
					const allowed = subsetSums(others);
					assert.ok(leg.heard.length > 0, `${leg.id} heard something`);
					assert.equal(leg.uneven, 0, `${leg.id}: every frame is a whole DC frame`);
					// A late timer may leave a talker out of a tick; nothing else may appear.
					const odd = leg.heard.filter((v) => !allowed.has(v));
					assert.deepEqual(odd, [], `${room}/${leg.id} heard only mixes of the others`);
					assert.equal(mode(leg.heard), full, `${room}/${leg.id} mostly hears ${full}`);
				}
			}
			assert.equal(narrow[0]!.value + narrow[1]!.value + narrow[2]!.value, 6000);
			assert.equal(mode(narrow[0]!.heard), 5000);
			assert.equal(mode(narrow[2]!.heard), 3000);
		} finally {
			await host.close();
		}
	});

	it('keeps mixing the right people as participants leave and join', async () => {
		const host = await MixerHost.create({});
		try {
			await host.createRoom('r', 8000);
			const [a, b, c, d] = [1, 20, 300, 4000].map((v, i) => new TestLeg(`p${i}`, v, 8000)) as [
				TestLeg,
				TestLeg,
				TestLeg,
				TestLeg,
			];
			for (const leg of [a, b, c]) {
				await host.addParticipant('r', leg.id, leg.rings);
			}
			/** Runs a phase from a clean start and returns what each leg mostly heard. */
			const phase = async (legs: TestLeg[]): Promise<(number | undefined)[]> => {
				for (const leg of legs) {
					leg.send();
					leg.output.clear();
					leg.heard.length = 0;
				}
				await run(legs, 15);
				return legs.map((leg) => mode(leg.heard));
			};
			assert.deepEqual(await phase([a, b, c]), [320, 301, 21]);
			// The one in the middle leaves: the last moves into its place.
			await host.removeParticipant('r', 'p1');
			assert.deepEqual(await phase([a, c]), [300, 1]);
			// A newcomer reuses the buffers the leaver left behind.
			await host.addParticipant('r', d.id, d.rings);
			assert.deepEqual(await phase([a, c, d]), [4300, 4001, 301]);
			for (const leg of [a, c, d]) {
				assert.equal(leg.uneven, 0);
			}
		} finally {
			await host.close();
		}
	});

	it('gives a lone participant silence, frame after frame', async () => {
		const host = await MixerHost.create({});
		try {
			await host.createRoom('solo', 16000);
			const leg = new TestLeg('only', 12000, 16000);
			await host.addParticipant('solo', leg.id, leg.rings);
			await run([leg], 25);
			assert.ok(leg.heard.length > 0, 'the mixer still sends frames');
			assert.equal(leg.uneven, 0);
			assert.deepEqual(new Set(leg.heard), new Set([0]));
		} finally {
			await host.close();
		}
	});

	it('reports stats, releases rings on remove, and ends every worker on close', async () => {
		const host = await MixerHost.create({ workers: 2 });
		const exits: number[] = [];
		host.on('workerexit', (code) => exits.push(code));
		const errors: Error[] = [];
		host.on('error', (e) => errors.push(e));

		await host.createRoom('a', 8000);
		await host.createRoom('b', 8000);
		const leg = new TestLeg('p', 500, 8000);
		await host.addParticipant('a', leg.id, leg.rings);
		// A frame coming out proves the clock ticked at least once.
		await until(() => leg.output.available() > 0, 'a mixed frame');

		const stats = await host.getStats();
		assert.equal(stats.workers.length, 2);
		// Fewest-rooms placement: one room on each worker.
		assert.deepEqual(
			stats.workers.map((w) => w.rooms),
			[1, 1],
		);
		assert.equal(stats.workers.reduce((n, w) => n + w.participants, 0), 1);
		const busy = stats.workers.find((w) => w.participants === 1);
		assert.ok(busy);
		assert.ok(busy.alive);
		assert.ok(busy.ticks > 0);
		assert.ok(busy.kernel.length > 0);
		assert.ok(busy.tickUs.samples > 0);
		assert.ok(busy.tickUs.p50 <= busy.tickUs.p99 && busy.tickUs.p99 <= busy.tickUs.max);

		// Until the worker confirms the removal, the rings still belong to it.
		const removing = host.removeParticipant('a', 'p');
		await assert.rejects(host.addParticipant('b', 'p', leg.rings), { code: 'MIXER_RING_IN_USE' });
		await removing;
		await host.addParticipant('b', 'p', leg.rings);
		await host.removeParticipant('b', 'p');
		const after = await host.getStats();
		assert.equal(after.workers.reduce((n, w) => n + w.participants, 0), 0);

		const pending = host.getStats();
		const closing = host.close();
		await assert.rejects(pending, { code: 'INVALID_STATE' });
		await closing;
		assert.equal(exits.length, 2, 'both worker threads ended');
		assert.deepEqual(errors, []);
		assert.equal(host.closed, true);
		// Idempotent, and everything else now refuses.
		await host.close();
		await assert.rejects(host.createRoom('c', 8000), { code: 'INVALID_STATE' });
		await assert.rejects(host.getStats(), { code: 'INVALID_STATE' });
		assert.equal(exits.length, 2);
	});

	describe('errors', () => {
		let host: MixerHost;
		before(async () => {
			host = await MixerHost.create({});
			await host.createRoom('r', 8000);
		});
		after(async () => {
			await host.close();
		});

		it('rejects a participant for an unknown room with MIXER_ROOM_NOT_FOUND', async () => {
			const leg = new TestLeg('x', 1, 8000);
			const error = await host.addParticipant('nope', 'x', leg.rings).then(
				() => null,
				(e: unknown) => e,
			);
			assert.ok(error instanceof MixerError);
			assert.equal(error.code, 'MIXER_ROOM_NOT_FOUND');
		});

		it('rejects duplicates, unknown ids and mismatched frames with their codes', async () => {
			await assert.rejects(host.createRoom('r', 8000), { code: 'MIXER_ROOM_EXISTS' });
			await assert.rejects(host.closeRoom('nope'), { code: 'MIXER_ROOM_NOT_FOUND' });
			await assert.rejects(host.removeParticipant('r', 'ghost'), { code: 'MIXER_PARTICIPANT_NOT_FOUND' });
			await assert.rejects(host.addParticipant('r', 'wide', new TestLeg('wide', 1, 16000).rings), {
				code: 'MIXER_FRAME_MISMATCH',
			});
			const leg = new TestLeg('y', 1, 8000);
			await host.addParticipant('r', 'y', leg.rings);
			await assert.rejects(host.addParticipant('r', 'y', new TestLeg('y', 1, 8000).rings), {
				code: 'MIXER_PARTICIPANT_EXISTS',
			});
			await assert.rejects(host.addParticipant('r', 'z', leg.rings), { code: 'MIXER_RING_IN_USE' });
			const one = PcmRing.create(4, 160);
			await assert.rejects(host.addParticipant('r', 'w', { input: one, output: one }), { code: 'MIXER_RING_IN_USE' });
			await host.removeParticipant('r', 'y');
		});

		it('rejects bad arguments with TypeError', async () => {
			await assert.rejects(host.createRoom('odd', 11025), TypeError);
			await assert.rejects(host.createRoom('', 8000), TypeError);
			await assert.rejects(host.addParticipant('r', '', new TestLeg('q', 1, 8000).rings), TypeError);
		});

		it('refuses to start with bad options', async () => {
			await assert.rejects(MixerHost.create({ workers: 0 }), TypeError);
			await assert.rejects(MixerHost.create({ frameMs: -20 }), TypeError);
		});

		it('closes a room and lets its id be used again', async () => {
			await host.createRoom('again', 8000);
			await host.closeRoom('again');
			await host.createRoom('again', 16000);
			await host.closeRoom('again');
		});
	});
});

/**
 * Fault injection through the real loader: CONFSRV_MIXER_NATIVE_BIN points at
 * a stand-in "native" kernel that parks inside its first mix() until the test
 * releases it, then throws (crash) or returns (stall) and mixes nothing from
 * then on. The test decides when the worker is stuck, so nothing below
 * depends on how fast the machine is.
 */
function gateKernel(thenThrow: boolean): string {
	return `
const { BroadcastChannel, receiveMessageOnPort } = require('node:worker_threads');
const bc = new BroadcastChannel('confsrv-mixer-gate-test');
const nap = new Int32Array(new SharedArrayBuffer(4));
let gate = null;
let done = false;
// The gate arrives either while the worker idles (event) or while mix() spins (polled).
bc.onmessage = (e) => { gate = new Int32Array(e.data); };
bc.unref();
exports.mix = function mix() {
	if (done) return;
	while (gate === null) {
		const m = receiveMessageOnPort(bc);
		if (m) gate = new Int32Array(m.message); else Atomics.wait(nap, 0, 0, 1);
	}
	Atomics.store(gate, 0, 1);
	Atomics.wait(gate, 1, 0);
	done = true;
	${thenThrow ? "throw new Error('simulated kernel crash');" : ''}
};
`;
}

/** Holds the worker inside mix() until release() is called. */
class Gate {
	readonly #state = new Int32Array(new SharedArrayBuffer(8));
	readonly #bc = new BroadcastChannel('confsrv-mixer-gate-test');

	/** Resolves once the worker is parked in the kernel. */
	async close(): Promise<void> {
		this.#bc.postMessage(this.#state.buffer);
		await until(() => Atomics.load(this.#state, 0) === 1, 'the kernel to be entered');
	}

	release(): void {
		if (Atomics.exchange(this.#state, 1, 1) === 0) {
			Atomics.notify(this.#state, 1);
			this.#bc.close();
		}
	}
}

describe('MixerHost when a worker stalls or dies', () => {
	let dir: string;
	const saved = { kernel: process.env['CONFSRV_MIXER_KERNEL'], bin: process.env['CONFSRV_MIXER_NATIVE_BIN'] };

	function restoreEnv(): void {
		for (const [key, value] of [
			['CONFSRV_MIXER_KERNEL', saved.kernel],
			['CONFSRV_MIXER_NATIVE_BIN', saved.bin],
		] as const) {
			if (value === undefined) {
				delete process.env[key];
			} else {
				process.env[key] = value;
			}
		}
	}

	before(async () => {
		dir = await mkdtemp(join(tmpdir(), 'confsrv-mixer-'));
		await writeFile(join(dir, 'crash-kernel.cjs'), gateKernel(true));
		await writeFile(join(dir, 'stall-kernel.cjs'), gateKernel(false));
	});
	after(async () => {
		restoreEnv();
		await rm(dir, { recursive: true, force: true });
	});

	it('fails to start when CONFSRV_MIXER_KERNEL=native has no addon', async () => {
		process.env['CONFSRV_MIXER_KERNEL'] = 'native';
		process.env['CONFSRV_MIXER_NATIVE_BIN'] = join(dir, 'missing.node');
		try {
			await assert.rejects(MixerHost.create({}), { code: 'CONFIG_INVALID' });
		} finally {
			restoreEnv();
		}
	});

	it('emits error, rejects pending and later requests, and still closes', async () => {
		process.env['CONFSRV_MIXER_KERNEL'] = 'native';
		process.env['CONFSRV_MIXER_NATIVE_BIN'] = join(dir, 'crash-kernel.cjs');
		let host: MixerHost;
		try {
			host = await MixerHost.create({});
		} finally {
			restoreEnv();
		}
		const errors: Error[] = [];
		const exits: number[] = [];
		host.on('error', (e) => errors.push(e));
		host.on('workerexit', (code) => exits.push(code));
		const gate = new Gate();
		try {
			await host.createRoom('doomed', 8000);
			const leg = new TestLeg('p', 1, 8000);
			await host.addParticipant('doomed', leg.id, leg.rings);
			// The worker is now parked inside mix(): anything sent waits behind the crash.
			await gate.close();
			const pending = host.getStats();
			gate.release();
			await assert.rejects(pending, { code: 'MIXER_WORKER_DIED' });
			await until(() => exits.length === 1, 'the worker to exit');
			assert.equal(errors.length, 1);
			assert.equal((errors[0] as MixerError).code, 'MIXER_WORKER_DIED');
			// Setup fails clearly; teardown of what died with the worker succeeds.
			await assert.rejects(host.createRoom('next', 8000), { code: 'MIXER_WORKER_DIED' });
			await host.removeParticipant('doomed', 'p');
			await host.closeRoom('doomed');
			const stats = await host.getStats();
			assert.equal(stats.workers[0]!.alive, false);
		} finally {
			gate.release();
			await host.close();
		}
		assert.equal(exits.length, 1);
	});

	it('counts a stalled tick as an overrun, resynchronises and reports it on confsrv:mixer:overrun', async () => {
		process.env['CONFSRV_MIXER_KERNEL'] = 'native';
		process.env['CONFSRV_MIXER_NATIVE_BIN'] = join(dir, 'stall-kernel.cjs');
		let host: MixerHost;
		try {
			host = await MixerHost.create({ statsIntervalMs: 20 });
		} finally {
			restoreEnv();
		}
		const reports: { worker: number; overruns: number; total: number }[] = [];
		const onOverrun = (msg: unknown): void => {
			reports.push(msg as { worker: number; overruns: number; total: number });
		};
		overrunChannel.subscribe(onOverrun);
		const gate = new Gate();
		try {
			await host.createRoom('r', 8000);
			const leg = new TestLeg('p', 1, 8000);
			await host.addParticipant('r', leg.id, leg.rings);
			await gate.close();
			// Parked at least this long: ten frames, far past the three the clock will catch up.
			await sleep(200);
			gate.release();
			// A frame coming out shows the clock ticking again after the stall.
			await until(() => leg.output.available() > 0, 'a frame after the stall');
			await until(() => reports.length > 0, 'an overrun report');
			assert.equal(reports[0]!.worker, 0);
			assert.ok(reports[0]!.overruns >= 1);
			const stats = (await host.getStats()).workers[0]!;
			assert.ok(stats.overruns >= 1);
			// Resynchronised once rather than bursting out the ten missed ticks.
			assert.equal(stats.resyncs, 1);
			assert.ok(stats.tickUs.max >= 200_000, `longest tick ${stats.tickUs.max} µs`);
		} finally {
			overrunChannel.unsubscribe(onOverrun);
			gate.release();
			await host.close();
		}
	});
});
