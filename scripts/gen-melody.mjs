#!/usr/bin/env node
// Synthesises the default transfer melody, assets/melodies/transfer.wav: what
// a client hears on hold while an employee transfers them. A light marimba-like
// motif in D major pentatonic, 8 s, a seamless loop; 8 kHz mono PCM16. Pure
// arithmetic, no third-party audio. Run: `node scripts/gen-melody.mjs`.
//
// It uses only these pitches (Hz), which tests look for with Goertzel, kept
// apart from the music on hold (C major) so the two can be told apart:
// D5 587.33, E5 659.25, F#5 739.99, A5 880.00, B5 987.77, D6 1174.66.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RATE = 8000;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function wav(samples) {
	const data = Buffer.alloc(samples.length * 2);
	for (let i = 0; i < samples.length; i++) {
		data.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(samples[i]))), i * 2);
	}
	const h = Buffer.alloc(44);
	h.write('RIFF', 0);
	h.writeUInt32LE(36 + data.length, 4);
	h.write('WAVE', 8);
	h.write('fmt ', 12);
	h.writeUInt32LE(16, 16);
	h.writeUInt16LE(1, 20);
	h.writeUInt16LE(1, 22);
	h.writeUInt32LE(RATE, 24);
	h.writeUInt32LE(RATE * 2, 28);
	h.writeUInt16LE(2, 32);
	h.writeUInt16LE(16, 34);
	h.write('data', 36);
	h.writeUInt32LE(data.length, 40);
	return Buffer.concat([h, data]);
}

/** A struck bar: fast attack, exponential decay, a faint fourth partial. */
function bar(out, start, len, freq, amp) {
	for (let i = 0; i < len && start + i < out.length; i++) {
		const t = i / RATE;
		const env = Math.min(1, t / 0.005) * Math.exp(-t * 4);
		const ph = 2 * Math.PI * freq * t;
		out[start + i] += amp * env * (Math.sin(ph) + 0.1 * Math.exp(-t * 12) * Math.sin(4 * ph));
	}
}

const D5 = 587.33, E5 = 659.25, FS5 = 739.99, A5 = 880.0, B5 = 987.77, D6 = 1174.66;
// Two phrases of eight quarter notes at 120 bpm (0.5 s each); 0 is a rest.
const motif = [D5, FS5, A5, FS5, B5, A5, FS5, 0, E5, FS5, A5, D6, B5, A5, D5, 0];
const step = RATE / 2;
const out = new Float64Array(motif.length * step);
motif.forEach((f, k) => {
	if (f > 0) {
		bar(out, k * step, step * 2, f, 6000);
	}
});
// The tail of the last notes wraps to the start; a 50 ms fade removes any click.
const fade = RATE / 20;
for (let i = 0; i < fade; i++) {
	out[out.length - fade + i] *= 1 - i / fade;
	out[i] *= i / fade;
}
const rel = 'assets/melodies/transfer.wav';
mkdirSync(dirname(join(root, rel)), { recursive: true });
writeFileSync(join(root, rel), wav(out));
console.log(`${rel}: ${(out.length / RATE).toFixed(2)} s`);
