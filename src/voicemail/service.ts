import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '../common/logger.js';
import type { PlaybackHandle, PlayOptions, Prompt, RecordOptions, RecordingHandle } from '../media/index.js';
import type { VoicemailConfig } from '../transfer/config.js';
import type { VoiceMessages } from '../transfer/messages.js';
import type { VoicemailRecord, VoicemailRepository } from './repository.js';

/** What voicemail needs from a caller's media leg (MediaLeg fits). */
export interface VoicemailLeg {
	readonly mixRate: number;
	readonly closed: boolean;
	play(prompt: Prompt, opts?: PlayOptions): PlaybackHandle;
	record(opts: RecordOptions): RecordingHandle;
}

export interface LeaveMessageOptions {
	mailbox: string;
	caller: string;
	called: string;
	/** Why the client is here (busy, no-answer, unreachable …), kept with the message. */
	reason: string;
	/** Said before the beep; default the system "please leave a message after the tone". */
	greeting?: Prompt | undefined;
}

/** Shorter recordings (a hang-up at the beep) are not kept. */
const MIN_MESSAGE_MS = 300;

/**
 * Voicemail: greeting, beep, the client's message recorded from their leg
 * (silence trimmed, ended by silence, hang-up or the length limit), stored
 * as a WAV file plus a row, then "message saved". The file is complete
 * before its row exists, and a row's deletion removes its file.
 */
export class VoicemailService {
	readonly dir: string;
	readonly repo: VoicemailRepository;
	readonly #cfg: VoicemailConfig;
	readonly #messages: VoiceMessages;
	readonly #log: Logger;
	readonly #active = new Set<RecordingHandle>();

	constructor(opts: { repo: VoicemailRepository; dir: string; config: VoicemailConfig; messages: VoiceMessages; log: Logger }) {
		this.repo = opts.repo;
		this.dir = resolve(opts.dir);
		this.#cfg = opts.config;
		this.#messages = opts.messages;
		this.#log = opts.log.child({ mod: 'voicemail' });
		mkdirSync(this.dir, { recursive: true });
	}

	/** Recordings in progress. */
	get recording(): number {
		return this.#active.size;
	}

	/**
	 * Runs the voicemail dialogue on `leg`; resolves with the stored message,
	 * or undefined when the client hung up before saying anything. Never
	 * rejects on a missing prompt (it is skipped and logged).
	 */
	async leaveMessage(leg: VoicemailLeg, opts: LeaveMessageOptions): Promise<VoicemailRecord | undefined> {
		const rate = leg.mixRate;
		const greeting = opts.greeting ?? (await this.#prompt(() => this.#messages.get({ source: 'system', file: '', text: '', language: 'en' }, 'leave-message', rate)));
		if (greeting && !(await this.#play(leg, greeting))) {
			return undefined;
		}
		const beep = await this.#prompt(() => this.#messages.beep(rate));
		if (beep && !(await this.#play(leg, beep))) {
			return undefined;
		}
		if (leg.closed) {
			return undefined;
		}
		const file = join(this.dir, `${Date.now()}-${randomUUID()}.wav`);
		const rec = leg.record({
			path: file,
			maxMs: this.#cfg.maxMessageSec * 1000,
			trimSilence: true,
			...(this.#cfg.silenceStopSec > 0 ? { stopOnSilenceMs: this.#cfg.silenceStopSec * 1000 } : {}),
		});
		this.#active.add(rec);
		let result;
		try {
			result = await rec.done;
		} catch (error) {
			this.#log.error({ err: error, file }, 'voicemail recording failed');
			await rm(file, { force: true });
			return undefined;
		} finally {
			this.#active.delete(rec);
		}
		if (result.durationMs < MIN_MESSAGE_MS) {
			this.#log.info({ mailbox: opts.mailbox, caller: opts.caller }, 'no voicemail message left');
			await rm(file, { force: true });
			return undefined;
		}
		const record = this.repo.create({
			mailbox: opts.mailbox,
			caller: opts.caller,
			called: opts.called,
			file,
			sampleRate: rate,
			durationMs: result.durationMs,
			reason: opts.reason,
		});
		this.#log.info({ id: record.id, mailbox: record.mailbox, caller: record.caller, durationMs: record.durationMs }, 'voicemail message stored');
		if (!leg.closed) {
			const saved = await this.#prompt(() => this.#messages.get(this.#cfg.saved, 'message-saved', rate));
			if (saved) {
				await this.#play(leg, saved);
			}
		}
		return record;
	}

	/** Deletes a message and its file. Throws VoicemailNotFoundError. */
	async delete(id: number): Promise<VoicemailRecord> {
		const r = this.repo.delete(id);
		await rm(r.file, { force: true });
		return r;
	}

	/** Ends recordings in progress (shutdown); their messages are still stored. */
	stopAll(): void {
		for (const rec of this.#active) {
			rec.stop();
		}
	}

	async #prompt(get: () => Promise<Prompt | undefined>): Promise<Prompt | undefined> {
		try {
			return await get();
		} catch (error) {
			this.#log.warn({ err: error }, 'voicemail prompt unavailable: skipped');
			return undefined;
		}
	}

	/** Plays to the end; false when the leg went away meanwhile. */
	async #play(leg: VoicemailLeg, prompt: Prompt): Promise<boolean> {
		if (leg.closed) {
			return false;
		}
		const end = await leg.play(prompt).done;
		return end === 'finished' && !leg.closed;
	}
}
