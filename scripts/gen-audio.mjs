#!/usr/bin/env node
// Synthesises the non-spoken audio: assets/moh/default.wav (music on hold: a
// soft I-vi-IV-V progression in C major, 16 s, seamless loop) and
// assets/tones/{join,leave,beep}.wav. 8 kHz mono PCM16. Pure arithmetic, no
// third-party audio. Run from anywhere: `node scripts/gen-audio.mjs`.
//
// The MOH uses only these pitches (Hz), which tests look for with Goertzel:
// C major (261.63 329.63 392.00), A minor (220.00 261.63 329.63),
// F major (174.61 220.00 261.63 349.23), G major (196.00 246.94 293.66 392.00).
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
	h.writeUInt16LE(1, 20); // PCM
	h.writeUInt16LE(1, 22); // mono
	h.writeUInt32LE(RATE, 24);
	h.writeUInt32LE(RATE * 2, 28);
	h.writeUInt16LE(2, 32);
	h.writeUInt16LE(16, 34);
	h.write('data', 36);
	h.writeUInt32LE(data.length, 40);
	return Buffer.concat([h, data]);
}

function write(rel, samples) {
	const path = join(root, rel);
	mkdirSync(dirname(path), { recursive: true });
	writeFileSync(path, wav(samples));
	console.log(`${rel}: ${(samples.length / RATE).toFixed(2)} s`);
}

/** A soft electric-piano-like note: fundamental plus two decaying partials. */
function note(out, start, len, freq, amp) {
	for (let i = 0; i < len && start + i < out.length; i++) {
		const t = i / RATE;
		const attack = Math.min(1, t / 0.03);
		const env = attack * Math.exp(-t * 1.1);
		const ph = 2 * Math.PI * freq * t;
		out[start + i] += amp * env * (Math.sin(ph) + 0.25 * Math.exp(-t * 3) * Math.sin(2 * ph) + 0.08 * Math.exp(-t * 5) * Math.sin(3 * ph));
	}
}

// Music on hold: 4 chords × 2 bars of 2 s, an arpeggio over a sustained chord.
const chords = [
	[261.63, 329.63, 392.0], // C
	[220.0, 261.63, 329.63], // Am
	[174.61, 220.0, 261.63, 349.23], // F
	[196.0, 246.94, 293.66, 392.0], // G
];
const bar = 2 * RATE;
const moh = new Float64Array(chords.length * 2 * bar);
chords.forEach((chord, c) => {
	for (let b = 0; b < 2; b++) {
		const at = (c * 2 + b) * bar;
		for (const f of chord) {
			note(moh, at, bar, f, 3400);
		}
		// Arpeggio: eighth notes over the chord, an octave up only for the lowest pitches.
		for (let k = 0; k < 8; k++) {
			const f = chord[k % chord.length];
			note(moh, at + k * (bar / 8), bar / 2, f < 250 ? f * 2 : f, 2300);
		}
	}
});
// Fade the last 50 ms into the first so the loop has no click.
const fade = RATE / 20;
for (let i = 0; i < fade; i++) {
	moh[moh.length - fade + i] *= 1 - i / fade;
	moh[i] *= i / fade;
}
write('assets/moh/default.wav', moh);

function tone(parts) {
	const total = parts.reduce((n, p) => n + Math.round(p.ms * RATE / 1000), 0);
	const out = new Float64Array(total);
	let at = 0;
	for (const { freq, ms } of parts) {
		const len = Math.round((ms * RATE) / 1000);
		for (let i = 0; i < len; i++) {
			// 5 ms raised-cosine edges: no clicks.
			const edge = Math.min(1, i / 40, (len - i) / 40);
			out[at + i] = freq === 0 ? 0 : 8000 * edge * Math.sin((2 * Math.PI * freq * i) / RATE);
		}
		at += len;
	}
	return out;
}
// Rising two-note chime on join, falling on leave; the beep before recording a name.
write('assets/tones/join.wav', tone([{ freq: 660, ms: 120 }, { freq: 0, ms: 30 }, { freq: 880, ms: 180 }]));
write('assets/tones/leave.wav', tone([{ freq: 880, ms: 120 }, { freq: 0, ms: 30 }, { freq: 660, ms: 180 }]));
write('assets/tones/beep.wav', tone([{ freq: 1000, ms: 250 }]));
