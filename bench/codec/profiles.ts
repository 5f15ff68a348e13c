/**
 * Codec profiles for the load generator: payload type, SDP, how to encode a
 * PCM signal into a table of ready-made payloads (done once, before a run),
 * and a decoder for the few listeners whose audio is analysed.
 *
 * G.711 is the bench's own code; G.722 uses the server's codec (bit-exact with
 * spandsp, tested on its own); Opus needs the optional @discordjs/opus.
 */
import { createRequire } from 'node:module';
import { ALAW_TABLE, ULAW_TABLE, alawEncode, ulawEncode } from './g711.js';
import { G722Decoder, G722Encoder } from '../../src/media/codecs/g722.js';

export type CodecName = 'pcmu' | 'pcma' | 'g722' | 'opus';

export const CODEC_NAMES: readonly CodecName[] = ['pcmu', 'pcma', 'g722', 'opus'];

/** Encoded 20 ms payloads back to back; frame k is data[offsets[k], offsets[k+1]). */
export interface FrameTable {
	data: Buffer;
	offsets: Uint32Array;
	frames: number;
}

export interface PayloadDecoder {
	/** Decodes one payload into `out` (from index 0); returns samples written. */
	decode(payload: Buffer, off: number, len: number, out: Int16Array): number;
}

export interface CodecProfile {
	name: CodecName;
	payloadType: number;
	/** RTP clock rate. */
	clockRate: number;
	/** PCM rate. */
	sampleRate: number;
	/** PCM samples per 20 ms frame. */
	frameSamples: number;
	/** RTP timestamp increment per 20 ms frame. */
	tsPerFrame: number;
	/** a=rtpmap value, e.g. 'PCMU/8000'. */
	rtpmap: string;
	fmtp?: string;
	/** Largest payload in bytes. */
	maxPayload: number;
	encodeTable(pcm: Int16Array): FrameTable;
	createDecoder(): PayloadDecoder;
}

function tableFrom(payloads: Uint8Array[]): FrameTable {
	const offsets = new Uint32Array(payloads.length + 1);
	let total = 0;
	for (let i = 0; i < payloads.length; i++) {
		offsets[i] = total;
		total += payloads[i]!.length;
	}
	offsets[payloads.length] = total;
	const data = Buffer.alloc(total);
	for (let i = 0; i < payloads.length; i++) {
		data.set(payloads[i]!, offsets[i]!);
	}
	return { data, offsets, frames: payloads.length };
}

function splitFrames(pcm: Int16Array, frameSamples: number): Int16Array[] {
	const out: Int16Array[] = [];
	for (let off = 0; off + frameSamples <= pcm.length; off += frameSamples) {
		out.push(pcm.subarray(off, off + frameSamples));
	}
	return out;
}

function g711(name: 'pcmu' | 'pcma'): CodecProfile {
	const mu = name === 'pcmu';
	const enc = mu ? ulawEncode : alawEncode;
	const table = mu ? ULAW_TABLE : ALAW_TABLE;
	return {
		name,
		payloadType: mu ? 0 : 8,
		clockRate: 8000,
		sampleRate: 8000,
		frameSamples: 160,
		tsPerFrame: 160,
		rtpmap: mu ? 'PCMU/8000' : 'PCMA/8000',
		maxPayload: 160,
		encodeTable(pcm) {
			return tableFrom(
				splitFrames(pcm, 160).map((f) => {
					const b = new Uint8Array(160);
					for (let i = 0; i < 160; i++) {
						b[i] = enc(f[i]!);
					}
					return b;
				}),
			);
		},
		createDecoder() {
			return {
				decode(payload, off, len, out) {
					const n = Math.min(len, out.length);
					for (let i = 0; i < n; i++) {
						out[i] = table[payload[off + i]!]!;
					}
					return n;
				},
			};
		},
	};
}

function g722(): CodecProfile {
	return {
		name: 'g722',
		payloadType: 9,
		clockRate: 8000,
		sampleRate: 16000,
		frameSamples: 320,
		tsPerFrame: 160,
		rtpmap: 'G722/8000',
		maxPayload: 160,
		encodeTable(pcm) {
			const enc = new G722Encoder();
			return tableFrom(
				splitFrames(pcm, 320).map((f) => {
					const b = new Uint8Array(160);
					enc.encode(f, 0, 320, b, 0);
					return b;
				}),
			);
		},
		createDecoder() {
			const dec = new G722Decoder();
			return {
				decode(payload, off, len, out) {
					return dec.decode(payload, off, Math.min(len, out.length >> 1), out, 0);
				},
			};
		},
	};
}

interface OpusModule {
	OpusEncoder: new (rate: number, channels: number) => {
		encode(pcm: Buffer): Buffer;
		decode(data: Buffer): Buffer;
		setBitrate(bps: number): void;
	};
}

let opusModule: OpusModule | null | undefined;

/** @discordjs/opus when installed, else null. */
export function loadOpus(): OpusModule | null {
	if (opusModule === undefined) {
		try {
			opusModule = createRequire(import.meta.url)('@discordjs/opus') as OpusModule;
		} catch {
			opusModule = null;
		}
	}
	return opusModule;
}

function opus(): CodecProfile {
	const mod = loadOpus();
	if (!mod) {
		throw new Error('Opus needs the optional package @discordjs/opus (npm install @discordjs/opus)');
	}
	return {
		name: 'opus',
		payloadType: 111,
		clockRate: 48000,
		sampleRate: 48000,
		frameSamples: 960,
		tsPerFrame: 960,
		rtpmap: 'opus/48000/2',
		fmtp: 'minptime=20;useinbandfec=0',
		maxPayload: 1275,
		encodeTable(pcm) {
			const enc = new mod.OpusEncoder(48000, 1);
			enc.setBitrate(32000);
			return tableFrom(
				splitFrames(pcm, 960).map((f) => {
					const b = Buffer.from(f.buffer, f.byteOffset, f.byteLength);
					return Uint8Array.from(enc.encode(b));
				}),
			);
		},
		createDecoder() {
			const dec = new mod.OpusEncoder(48000, 1);
			return {
				decode(payload, off, len, out) {
					const pcm = dec.decode(payload.subarray(off, off + len));
					const n = Math.min(out.length, pcm.length >> 1);
					for (let i = 0; i < n; i++) {
						out[i] = pcm.readInt16LE(i * 2);
					}
					return n;
				},
			};
		},
	};
}

export function codecProfile(name: CodecName): CodecProfile {
	switch (name) {
		case 'pcmu':
		case 'pcma':
			return g711(name);
		case 'g722':
			return g722();
		case 'opus':
			return opus();
		default:
			throw new TypeError(`unknown codec ${String(name)}`);
	}
}
