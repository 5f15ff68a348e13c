import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { PcmRing } from '../../../src/mixer/index.js';
import {
	type MixerNotification,
	type MixerResponse,
	type MixerWorkerData,
	PROTOCOL_VERSION,
} from '../../../src/mixer/protocol.js';

/**
 * The worker spoken to directly in the wire protocol, bypassing MixerHost's
 * own checks, so the worker's validation is exercised on its own.
 */
const workerUrl = new URL('../../../src/mixer/worker.js', import.meta.url);

function spawn(data: unknown): Worker {
	return new Worker(workerUrl, { workerData: data });
}

async function nextMessage<T>(worker: Worker): Promise<T> {
	const [msg] = (await once(worker, 'message')) as [T];
	return msg;
}

describe('mixer worker protocol', () => {
	let worker: Worker;
	let nextId = 0;

	async function call(method: string, params: object, v: number = PROTOCOL_VERSION): Promise<MixerResponse> {
		const id = ++nextId;
		worker.postMessage({ v, kind: 'request', id, method, params });
		for (;;) {
			const msg = await nextMessage<MixerResponse | MixerNotification>(worker);
			if (msg.kind === 'response') {
				assert.equal(msg.id, id, 'answers come in request order');
				return msg;
			}
		}
	}

	before(async () => {
		const data: MixerWorkerData = { v: PROTOCOL_VERSION, index: 0, frameMs: 20, statsIntervalMs: 0 };
		worker = spawn(data);
		const ready = await nextMessage<MixerNotification>(worker);
		assert.equal(ready.event, 'ready');
		assert.equal(typeof (ready.data as { kernel: string }).kernel, 'string');
	});
	after(async () => {
		await worker.terminate();
	});

	it('refuses a request of another protocol version', async () => {
		const res = await call('getStats', {}, PROTOCOL_VERSION + 1);
		assert.equal(res.ok, false);
		assert.equal(res.error?.code, 'MIXER_BAD_REQUEST');
	});

	it('refuses an unknown method', async () => {
		const res = await call('explode', {});
		assert.equal(res.error?.code, 'MIXER_BAD_REQUEST');
	});

	it('checks rooms, ids, frame periods and rings itself', async () => {
		const ring = (fs = 160): SharedArrayBuffer => PcmRing.create(4, fs).sab;
		const code = async (method: string, params: object): Promise<string | undefined> =>
			(await call(method, params)).error?.code;
		const join = (input: SharedArrayBuffer, output: SharedArrayBuffer, roomId = 'r'): object => ({
			roomId,
			participantId: 'p',
			input,
			output,
		});

		assert.equal(await code('addParticipant', join(ring(), ring(), 'x')), 'MIXER_ROOM_NOT_FOUND');
		assert.equal(await code('createRoom', { roomId: 'r', sampleRate: 8000, frameMs: 10 }), 'MIXER_BAD_REQUEST');
		assert.equal(await code('createRoom', { roomId: 'r', sampleRate: 11025, frameMs: 20 }), 'MIXER_BAD_REQUEST');
		assert.equal(await code('createRoom', { roomId: '', sampleRate: 8000, frameMs: 20 }), 'MIXER_BAD_REQUEST');
		assert.equal(await code('createRoom', { roomId: 'r', sampleRate: 8000, frameMs: 20 }), undefined);
		assert.equal(await code('createRoom', { roomId: 'r', sampleRate: 8000, frameMs: 20 }), 'MIXER_ROOM_EXISTS');
		const same = ring();
		assert.equal(await code('addParticipant', join(same, same)), 'MIXER_RING_IN_USE');
		assert.equal(await code('addParticipant', join(new SharedArrayBuffer(64), ring())), 'MIXER_BAD_REQUEST');
		assert.equal(await code('addParticipant', join(ring(320), ring())), 'MIXER_FRAME_MISMATCH');
		assert.equal(await code('addParticipant', join(ring(), ring())), undefined);
		assert.equal(await code('addParticipant', join(ring(), ring())), 'MIXER_PARTICIPANT_EXISTS');
		assert.equal(
			await code('removeParticipant', { roomId: 'r', participantId: 'q' }),
			'MIXER_PARTICIPANT_NOT_FOUND',
		);

		const stats = await call('getStats', {});
		assert.equal(stats.ok, true);
		assert.equal((stats.data as { rooms: number }).rooms, 1);
		assert.equal((stats.data as { participants: number }).participants, 1);

		assert.equal(await code('removeParticipant', { roomId: 'r', participantId: 'p' }), undefined);
		assert.equal(await code('closeRoom', { roomId: 'r' }), undefined);
		assert.equal(await code('closeRoom', { roomId: 'r' }), 'MIXER_ROOM_NOT_FOUND');
	});

	it('answers close, then exits by itself', async () => {
		const exited = once(worker, 'exit');
		assert.equal((await call('close', {})).ok, true);
		const [code] = (await exited) as [number];
		assert.equal(code, 0);
	});
});

describe('mixer worker start-up', () => {
	it('refuses a host of another protocol version and exits', async () => {
		const worker = spawn({ v: PROTOCOL_VERSION + 1, index: 0, frameMs: 20, statsIntervalMs: 0 });
		const exited = once(worker, 'exit');
		const msg = await nextMessage<MixerNotification>(worker);
		assert.equal(msg.event, 'startupError');
		assert.equal((msg.data as { code: string }).code, 'MIXER_BAD_REQUEST');
		await exited;
	});

	it('sends periodic stats when asked to', async () => {
		const worker = spawn({ v: PROTOCOL_VERSION, index: 0, frameMs: 20, statsIntervalMs: 10 });
		try {
			const seen: string[] = [];
			while (!seen.includes('stats')) {
				seen.push((await nextMessage<MixerNotification>(worker)).event);
			}
			assert.equal(seen[0], 'ready');
		} finally {
			await worker.terminate();
		}
	});
});
