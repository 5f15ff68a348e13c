import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';

import { createApi } from '../../../src/api/index.js';
import { logger } from '../../../src/common/logger.js';
import { MediaClock, MediaLeg, parseWav, RtpPortAllocator, writeHeader } from '../../../src/media/index.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { defaultVoicemailConfig } from '../../../src/transfer/config.js';
import { VoiceMessages } from '../../../src/transfer/messages.js';
import { VoicemailRepository, VoicemailService } from '../../../src/voicemail/index.js';
import { g711Decode, g711Encode } from '../../helpers/g711.js';
import { sine, toneRatio } from '../../helpers/goertzel.js';
import { Peer, freeRange, until } from '../media/udp.js';

const TOKEN = 'voicemail-test-token-0123456789';

/**
 * A phone on a UDP socket: sends one PCMU frame every 20 ms (silence, or
 * `speak` frames of a tone once asked) and decodes what it hears.
 */
class Phone {
	readonly heard: number[] = [];
	#seq = 1;
	#ts = 0;
	#timer: NodeJS.Timeout | undefined;
	#speech: Int16Array | undefined;
	#pos = 0;

	constructor(readonly peer: Peer, readonly legPort: number) {
		peer.socket.on('message', (msg) => {
			for (const s of g711Decode('PCMU', msg.subarray(12))) {
				this.heard.push(s);
			}
		});
	}

	start(): void {
		this.#timer = setInterval(() => this.#tick(), 20);
	}

	speak(pcm: Int16Array): void {
		this.#speech = pcm;
		this.#pos = 0;
	}

	/** Whether the last `ms` of what it heard is mostly `freq`. */
	hearing(freq: number, ms = 100): boolean {
		const n = (ms * 8000) / 1000;
		if (this.heard.length < n) {
			return false;
		}
		return toneRatio(Int16Array.from(this.heard.slice(-n)), 8000, freq) > 0.6;
	}

	#tick(): void {
		const frame = new Int16Array(160);
		if (this.#speech && this.#pos < this.#speech.length) {
			frame.set(this.#speech.subarray(this.#pos, this.#pos + 160));
			this.#pos += 160;
		}
		const pkt = Buffer.alloc(172);
		writeHeader(pkt, 0, false, this.#seq++ & 0xffff, (this.#ts += 160) >>> 0, 0x5eed);
		pkt.set(g711Encode('PCMU', frame), 12);
		void this.peer.send(pkt, this.legPort).catch(() => undefined);
	}

	stop(): void {
		clearInterval(this.#timer);
	}
}

describe('voicemail', () => {
	let dir: string;
	let store: Store;
	let service: VoicemailService;
	let allocator: RtpPortAllocator;
	let clock: MediaClock;
	let leg: MediaLeg;
	let peer: Peer;
	let phone: Phone;

	before(async () => {
		const base = await freeRange(8);
		allocator = new RtpPortAllocator({ min: base, max: base + 7, host: '127.0.0.1' });
	});

	beforeEach(async () => {
		dir = mkdtempSync(join(tmpdir(), 'confsrv-vm-'));
		store = openStore(join(dir, 'confsrv.sqlite'));
		service = new VoicemailService({
			repo: new VoicemailRepository(store.database),
			dir: join(dir, 'voicemail'),
			config: { ...defaultVoicemailConfig(), maxMessageSec: 4, silenceStopSec: 1 },
			messages: new VoiceMessages({ ttsDir: join(dir, 'tts') }),
			log: logger,
		});
		clock = new MediaClock();
		leg = await MediaLeg.create({ allocator, mixRate: 8000, rtpTimeoutMs: 0 });
		peer = await Peer.open();
		leg.setRemote({ address: '127.0.0.1', port: peer.port, codec: 'PCMU', payloadType: 0 });
		clock.add(leg);
		phone = new Phone(peer, leg.localPort);
		phone.start();
	});

	afterEach(async () => {
		phone.stop();
		clock.remove(leg);
		leg.close();
		clock.close();
		await peer.close();
		store.close();
		rmSync(dir, { recursive: true, force: true });
	});

	after(() => {
		assert.equal(allocator.inUse, 0);
	});

	it('greets, beeps, records the message, stores it and says it is saved; the API lists, serves and deletes it', async () => {
		const left = service.leaveMessage(leg, { mailbox: '2002', caller: '+491701234567', called: '2002', reason: 'no-answer' });
		// The client hears the greeting (speech), then the 1 kHz beep, and speaks after it.
		await until(() => phone.hearing(1000), 'the beep', 15_000);
		const beforeBeep = Int16Array.from(phone.heard.slice(0, -800));
		assert.ok(beforeBeep.some((s) => Math.abs(s) > 2000), 'the greeting was heard before the beep');
		phone.speak(sine(700, 8000, 1500, 9000));
		const record = await left;
		assert.ok(record, 'a message was stored');
		assert.equal(record.mailbox, '2002');
		assert.equal(record.caller, '+491701234567');
		assert.equal(record.reason, 'no-answer');
		assert.ok(record.durationMs >= 1000 && record.durationMs <= 3000, `duration ${record.durationMs} ms`);
		const wav = parseWav(readFileSync(record.file));
		assert.equal(wav.sampleRate, 8000);
		assert.ok(toneRatio(wav.samples, 8000, 700) > 0.7, 'the recording is what the client said');
		assert.ok(toneRatio(wav.samples, 8000, 1000) < 0.05, 'the beep is not in the recording');
		// "Message saved" followed the recording.
		const heardAfter = phone.heard.length;
		await until(() => phone.heard.length > heardAfter + 400, 'more audio');
		assert.equal(service.recording, 0);

		const api = createApi({ store, token: TOKEN, voicemail: service });
		try {
			const auth = { authorization: `Bearer ${TOKEN}` };
			const list = await api.inject({ method: 'GET', url: '/api/v1/voicemail?mailbox=2002', headers: auth });
			assert.equal(list.statusCode, 200);
			const messages = list.json().messages;
			assert.equal(messages.length, 1);
			assert.equal(messages[0].id, record.id);
			assert.equal(messages[0].audio, `/api/v1/voicemail/${record.id}/audio`);
			assert.equal(messages[0].file, undefined, 'server paths are not shown');
			assert.equal((await api.inject({ method: 'GET', url: '/api/v1/voicemail?mailbox=2001', headers: auth })).json().messages.length, 0);
			const audio = await api.inject({ method: 'GET', url: `/api/v1/voicemail/${record.id}/audio`, headers: auth });
			assert.equal(audio.statusCode, 200);
			assert.equal(audio.headers['content-type'], 'audio/wav');
			assert.deepEqual(audio.rawPayload, readFileSync(record.file));
			const heard = await api.inject({ method: 'PATCH', url: `/api/v1/voicemail/${record.id}`, headers: auth, payload: { heard: true } });
			assert.equal(heard.json().heard, true);
			const bad = await api.inject({ method: 'PATCH', url: `/api/v1/voicemail/${record.id}`, headers: auth, payload: { heard: 'yes' } });
			assert.equal(bad.statusCode, 400);
			assert.equal(bad.json().error.code, 'INVALID_INPUT');
			assert.equal((await api.inject({ method: 'GET', url: '/api/v1/voicemail/abc', headers: auth })).statusCode, 400);
			assert.equal((await api.inject({ method: 'GET', url: '/api/v1/voicemail/1', headers: {} })).statusCode, 401);
			const del = await api.inject({ method: 'DELETE', url: `/api/v1/voicemail/${record.id}`, headers: auth });
			assert.equal(del.statusCode, 204);
			assert.equal(existsSync(record.file), false, 'the file went with the row');
			const gone = await api.inject({ method: 'GET', url: `/api/v1/voicemail/${record.id}`, headers: auth });
			assert.equal(gone.statusCode, 404);
			assert.equal(gone.json().error.code, 'VOICEMAIL_NOT_FOUND');
			const calls = await api.inject({ method: 'GET', url: '/api/v1/calls', headers: auth });
			assert.equal(calls.statusCode, 503, 'no call layer given');
			assert.equal(calls.json().error.code, 'FEATURE_UNAVAILABLE');
		} finally {
			await api.close();
		}
	});

	it('survives a reopen of the database', async () => {
		const left = service.leaveMessage(leg, { mailbox: '2002', caller: 'anon', called: '2002', reason: 'busy' });
		await until(() => phone.hearing(1000), 'the beep', 15_000);
		phone.speak(sine(500, 8000, 800, 9000));
		const record = await left;
		assert.ok(record);
		const path = store.path;
		store.close();
		store = openStore(path);
		const again = new VoicemailRepository(store.database).list();
		assert.deepEqual(again, [record]);
	});

	it('a client hanging up during the greeting leaves nothing behind', async () => {
		const left = service.leaveMessage(leg, { mailbox: '2002', caller: 'x', called: '2002', reason: 'busy' });
		await until(() => phone.heard.some((s) => Math.abs(s) > 2000), 'the greeting');
		leg.close();
		assert.equal(await left, undefined);
		assert.deepEqual(service.repo.list(), []);
		assert.deepEqual(readdirSync(service.dir), []);
	});

	it('a client hanging up at the beep without a word leaves nothing behind', async () => {
		const left = service.leaveMessage(leg, { mailbox: '2002', caller: 'x', called: '2002', reason: 'busy' });
		await until(() => phone.hearing(1000), 'the beep', 15_000);
		await until(() => service.recording === 1, 'the recording');
		leg.close();
		assert.equal(await left, undefined);
		assert.deepEqual(service.repo.list(), []);
		assert.deepEqual(readdirSync(service.dir), []);
	});
});
