import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ServerError } from '../common/errors.js';
import { Prompt, PromptCache, readWav } from '../media/index.js';
import type { VoiceMessageConfig } from './config.js';

const run = promisify(execFile);

/** The repository's assets/ directory (this file is dist/src/transfer/messages.js). */
export const ASSETS_DIR = fileURLToPath(new URL('../../../assets/', import.meta.url));

/** The generated default transfer melody. */
export const DEFAULT_MELODY = join(ASSETS_DIR, 'melodies', 'transfer.wav');

/** System prompts the transfer and voicemail features use (assets/prompts/<lang>/<key>.wav). */
export type SystemPrompt = 'transfer-failed-back' | 'transfer-failed-goodbye' | 'leave-message' | 'message-saved';

export class VoiceMessageError extends ServerError {
	constructor(message: string, cause?: unknown) {
		super('VOICE_MESSAGE', message, { cause });
	}
}

/** Rates Prompt.at() converts between (integer ratios); TTS output is brought to one of them. */
const PLAYABLE_RATES = new Set([8000, 16000, 48000]);

/**
 * Turns a configured voice message into a Prompt: a system prompt in its
 * language, a WAV file, or text spoken by espeak-ng (synthesised once per
 * language and text into `ttsDir`, then cached like any file). Files are
 * loaded once (PromptCache). A message that cannot be had (missing file,
 * espeak-ng absent) rejects with VoiceMessageError; callers go on silently
 * rather than drop the call over a prompt.
 */
export class VoiceMessages {
	readonly #cache = new PromptCache();
	readonly #tts = new Map<string, Promise<Prompt>>();
	readonly #ttsDir: string;
	readonly #espeak: string;

	constructor(opts: { ttsDir: string; espeak?: string }) {
		this.#ttsDir = opts.ttsDir;
		this.#espeak = opts.espeak ?? 'espeak-ng';
	}

	/** The prompt for `msg` at `rate`, `undefined` for source 'none'. `system` names the system prompt it stands for. */
	async get(msg: VoiceMessageConfig, system: SystemPrompt, rate: number): Promise<Prompt | undefined> {
		switch (msg.source) {
			case 'none':
				return undefined;
			case 'system':
				return this.file(join(ASSETS_DIR, 'prompts', msg.language, `${system}.wav`), rate);
			case 'file':
				return this.file(msg.file, rate);
			case 'tts':
				return (await this.#speak(msg.text, msg.language)).at(rate);
		}
	}

	/** A WAV file at `rate` (loaded once). */
	async file(path: string, rate: number): Promise<Prompt> {
		try {
			return await this.#cache.get(path, rate);
		} catch (error) {
			throw new VoiceMessageError(`cannot play ${path}: ${(error as Error).message}`, error);
		}
	}

	/** A beep (assets/tones/beep.wav). */
	beep(rate: number): Promise<Prompt> {
		return this.file(join(ASSETS_DIR, 'tones', 'beep.wav'), rate);
	}

	#speak(text: string, language: string): Promise<Prompt> {
		const key = createHash('sha256').update(`${language}\n${text}`).digest('hex').slice(0, 24);
		let p = this.#tts.get(key);
		if (p === undefined) {
			p = this.#synthesise(text, language, join(this.#ttsDir, `${language}-${key}.wav`));
			this.#tts.set(key, p);
			p.catch(() => this.#tts.delete(key));
		}
		return p;
	}

	async #synthesise(text: string, language: string, path: string): Promise<Prompt> {
		if (!existsSync(path)) {
			mkdirSync(this.#ttsDir, { recursive: true });
			try {
				// execFile, no shell: the text is one argument whatever it contains.
				await run(this.#espeak, ['-v', language, '-s', '150', '-w', path, '--', text], { timeout: 30_000 });
			} catch (error) {
				throw new VoiceMessageError(`espeak-ng could not speak the message (${(error as Error).message})`, error);
			}
		}
		const { samples, sampleRate } = await readWav(path);
		// espeak-ng writes 22050 Hz, which Prompt cannot convert by an integer ratio: bring it to 16 kHz here.
		return PLAYABLE_RATES.has(sampleRate) ? new Prompt(samples, sampleRate, path) : new Prompt(resample(samples, sampleRate, 16000), 16000, path);
	}
}

/**
 * Any-ratio resampling for a whole clip (control path, once per synthesised
 * message): a Hann-windowed sinc low-pass at the lower Nyquist frequency.
 */
export function resample(input: Int16Array, from: number, to: number): Int16Array {
	const n = Math.floor((input.length * to) / from);
	const out = new Int16Array(n);
	const cutoff = Math.min(1, to / from);
	const half = 16;
	const radius = half / cutoff;
	for (let i = 0; i < n; i++) {
		const center = (i * from) / to;
		const lo = Math.max(0, Math.ceil(center - radius));
		const hi = Math.min(input.length - 1, Math.floor(center + radius));
		let acc = 0;
		for (let j = lo; j <= hi; j++) {
			const x = (j - center) * cutoff;
			const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
			const w = 0.5 + 0.5 * Math.cos((Math.PI * (j - center)) / radius);
			acc += input[j]! * sinc * w * cutoff;
		}
		out[i] = Math.max(-32768, Math.min(32767, Math.round(acc)));
	}
	return out;
}
