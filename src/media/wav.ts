import { open, readFile, type FileHandle } from 'node:fs/promises';
import { ServerError } from '../common/errors.js';

/**
 * WAV files as prompts and recordings use them: RIFF/WAVE, PCM, 16-bit,
 * mono, any sample rate. Anything else is refused with a WavError saying
 * what the file is, so an operator who drops a stereo or 8-bit file into the
 * prompts folder learns why it does not play.
 *
 *   "RIFF" size "WAVE"
 *     "fmt " 16  format=1 channels=1 rate byteRate blockAlign=2 bits=16
 *     (other chunks: skipped)
 *     "data" n   n bytes of little-endian int16 samples
 */
export class WavError extends ServerError {
	constructor(code: 'WAV_INVALID' | 'WAV_UNSUPPORTED', message: string) {
		super(code, message);
	}
}

export interface WavAudio {
	sampleRate: number;
	samples: Int16Array;
}

const HEADER_BYTES = 44;
const FORMAT_PCM = 1;
const FORMAT_EXTENSIBLE = 0xfffe;

/** Parses a WAV file's bytes; `name` only labels errors. */
export function parseWav(buf: Buffer, name = 'WAV data'): WavAudio {
	if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
		throw new WavError('WAV_INVALID', `${name} is not a RIFF/WAVE file`);
	}
	let off = 12;
	let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
	while (off + 8 <= buf.length) {
		const id = buf.toString('latin1', off, off + 4);
		const size = buf.readUInt32LE(off + 4);
		const body = off + 8;
		if (id === 'fmt ') {
			if (size < 16 || body + 16 > buf.length) {
				throw new WavError('WAV_INVALID', `${name}: fmt chunk is truncated`);
			}
			let format = buf.readUInt16LE(body);
			if (format === FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= buf.length) {
				// WAVE_FORMAT_EXTENSIBLE: the real format is the sub-format GUID's first two bytes.
				format = buf.readUInt16LE(body + 24);
			}
			fmt = { format, channels: buf.readUInt16LE(body + 2), rate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
		} else if (id === 'data') {
			if (fmt === undefined) {
				throw new WavError('WAV_INVALID', `${name}: data chunk before the fmt chunk`);
			}
			if (fmt.format !== FORMAT_PCM || fmt.bits !== 16 || fmt.channels !== 1) {
				throw new WavError(
					'WAV_UNSUPPORTED',
					`${name} is ${describe(fmt)}; only 16-bit PCM mono is supported (convert with: sox in.wav -b 16 -c 1 out.wav)`,
				);
			}
			if (!Number.isInteger(fmt.rate) || fmt.rate < 1000 || fmt.rate > 192000) {
				throw new WavError('WAV_UNSUPPORTED', `${name}: sample rate ${fmt.rate} Hz is out of range`);
			}
			// A recorder killed mid-write leaves a size of 0 or too big: take what is there.
			const avail = buf.length - body;
			const bytes = (size === 0 || size > avail ? avail : size) & ~1;
			const samples = new Int16Array(bytes >> 1);
			for (let i = 0; i < samples.length; i++) {
				samples[i] = buf.readInt16LE(body + 2 * i);
			}
			return { sampleRate: fmt.rate, samples };
		}
		// Chunks are padded to an even size.
		off = body + size + (size & 1);
	}
	throw new WavError('WAV_INVALID', fmt === undefined ? `${name} has no fmt chunk` : `${name} has no data chunk`);
}

function describe(fmt: { format: number; channels: number; bits: number }): string {
	const kind = fmt.format === FORMAT_PCM ? 'PCM' : fmt.format === 3 ? 'float' : fmt.format === 6 ? 'A-law' : fmt.format === 7 ? 'μ-law' : `format ${fmt.format}`;
	return `${fmt.bits}-bit ${kind}, ${fmt.channels} channel${fmt.channels === 1 ? '' : 's'}`;
}

/** Reads and parses a WAV file. */
export async function readWav(path: string): Promise<WavAudio> {
	let buf: Buffer;
	try {
		buf = await readFile(path);
	} catch (error) {
		throw new WavError('WAV_INVALID', `cannot read ${path}: ${(error as Error).message}`);
	}
	return parseWav(buf, path);
}

/** The 44-byte header of a PCM16 mono file holding `dataBytes` of samples. */
export function wavHeader(sampleRate: number, dataBytes: number): Buffer {
	const h = Buffer.alloc(HEADER_BYTES);
	h.write('RIFF', 0, 'latin1');
	h.writeUInt32LE(36 + dataBytes, 4);
	h.write('WAVE', 8, 'latin1');
	h.write('fmt ', 12, 'latin1');
	h.writeUInt32LE(16, 16);
	h.writeUInt16LE(FORMAT_PCM, 20);
	h.writeUInt16LE(1, 22);
	h.writeUInt32LE(sampleRate, 24);
	h.writeUInt32LE(sampleRate * 2, 28);
	h.writeUInt16LE(2, 32);
	h.writeUInt16LE(16, 34);
	h.write('data', 36, 'latin1');
	h.writeUInt32LE(dataBytes, 40);
	return h;
}

/** A whole PCM16 mono WAV file in memory. */
export function encodeWav(samples: Int16Array, sampleRate: number): Buffer {
	const out = Buffer.alloc(HEADER_BYTES + samples.length * 2);
	wavHeader(sampleRate, samples.length * 2).copy(out, 0);
	for (let i = 0; i < samples.length; i++) {
		out.writeInt16LE(samples[i]!, HEADER_BYTES + 2 * i);
	}
	return out;
}

/** Samples buffered before a write to disk: one second at 48 kHz. */
const CHUNK_SAMPLES = 48000;

/**
 * Streams PCM16 mono into a WAV file: append() copies samples into one of two
 * preallocated chunks, and a full chunk is written while the other fills, so
 * a recording of any length uses constant memory and the caller (the media
 * clock tick) never waits for the disk. close() writes the rest and the
 * final sizes; truncate(samples) first cuts the file to that many samples
 * (trailing silence). The file is opened in the background and every write
 * happens in order on one promise chain, so a recording can start within a
 * media tick.
 */
export class WavWriter {
	readonly path: string;
	readonly sampleRate: number;
	/** Settles once the file is open with its header written; rejects when it cannot be. */
	readonly ready: Promise<void>;
	#fh: FileHandle | undefined;
	#chunk: Int16Array;
	#spare: Int16Array | undefined;
	#fill = 0;
	#written = 0;
	#chain: Promise<void>;
	#error: Error | undefined;
	#closed = false;

	/** Opens (creates or truncates) `path` in the background; see ready. */
	constructor(path: string, sampleRate: number) {
		if (!Number.isInteger(sampleRate) || sampleRate < 1000 || sampleRate > 192000) {
			throw new RangeError(`sampleRate ${sampleRate} is out of range`);
		}
		if (typeof path !== 'string' || path === '') {
			throw new TypeError('recording path is empty');
		}
		this.path = path;
		this.sampleRate = sampleRate;
		this.#chunk = new Int16Array(CHUNK_SAMPLES);
		this.#spare = new Int16Array(CHUNK_SAMPLES);
		this.ready = (async () => {
			const fh = await open(path, 'w');
			this.#fh = fh;
			await fh.write(wavHeader(sampleRate, 0), 0, HEADER_BYTES, 0);
		})();
		this.#chain = this.ready.catch((error: unknown) => {
			this.#error = error as Error;
		});
	}

	/** Samples appended so far. */
	get samples(): number {
		return this.#written + this.#fill;
	}

	/** Appends `n` samples at `off`. */
	append(pcm: Int16Array, off: number, n: number): void {
		if (this.#closed) {
			return;
		}
		while (n > 0) {
			const m = Math.min(n, CHUNK_SAMPLES - this.#fill);
			this.#chunk.set(pcm.subarray(off, off + m), this.#fill);
			this.#fill += m;
			off += m;
			n -= m;
			if (this.#fill === CHUNK_SAMPLES) {
				this.#flush();
			}
		}
	}

	/** Appends `n` zero samples. */
	appendSilence(n: number): void {
		if (this.#closed) {
			return;
		}
		while (n > 0) {
			const m = Math.min(n, CHUNK_SAMPLES - this.#fill);
			this.#chunk.fill(0, this.#fill, this.#fill + m);
			this.#fill += m;
			n -= m;
			if (this.#fill === CHUNK_SAMPLES) {
				this.#flush();
			}
		}
	}

	#flush(): void {
		const chunk = this.#chunk;
		const n = this.#fill;
		const pos = HEADER_BYTES + this.#written * 2;
		this.#written += n;
		this.#fill = 0;
		// The spare is back once its write finished; a disk slower than real time gets a new one.
		this.#chunk = this.#spare ?? new Int16Array(CHUNK_SAMPLES);
		this.#spare = undefined;
		const bytes = toLittleEndian(chunk, n);
		this.#chain = this.#chain.then(async () => {
			if (this.#error === undefined && this.#fh !== undefined) {
				try {
					await this.#fh.write(bytes, 0, n * 2, pos);
				} catch (error) {
					this.#error = error as Error;
				}
			}
			this.#spare = chunk;
		});
	}

	/**
	 * Writes what is buffered, cuts the audio to `keepSamples` (default all),
	 * fixes the header and closes the file. Returns the samples in the file.
	 * Rejects with the first write error.
	 */
	async close(keepSamples?: number): Promise<number> {
		if (this.#closed) {
			throw new Error(`${this.path} is already closed`);
		}
		if (this.#fill > 0) {
			this.#flush();
		}
		this.#closed = true;
		await this.#chain;
		const total = Math.max(0, Math.min(keepSamples ?? this.#written, this.#written));
		const fh = this.#fh;
		try {
			if (this.#error !== undefined || fh === undefined) {
				throw this.#error ?? new Error(`${this.path} was not opened`);
			}
			await fh.truncate(HEADER_BYTES + total * 2);
			await fh.write(wavHeader(this.sampleRate, total * 2), 0, HEADER_BYTES, 0);
		} finally {
			await fh?.close();
		}
		return total;
	}
}

/** The first n samples as little-endian bytes (a view on big-endian-free hosts). */
function toLittleEndian(pcm: Int16Array, n: number): Buffer {
	const view = Buffer.from(pcm.buffer, pcm.byteOffset, n * 2);
	if (LITTLE_ENDIAN) {
		return view;
	}
	const out = Buffer.alloc(n * 2);
	for (let i = 0; i < n; i++) {
		out.writeInt16LE(pcm[i]!, 2 * i);
	}
	return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
