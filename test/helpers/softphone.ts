/**
 * Real softphones for end-to-end tests: typed wrappers around the `sipcall`
 * (baresip) and `wavcheck` tools, tone WAV files made with sox, and the skip
 * rule for machines without baresip.
 *
 * Skip rule: when baresip or sox is missing, e2e tests are skipped with a
 * clear message, unless CONFSRV_E2E=required (set by .ci/run), in which case
 * they fail, so CI never silently skips.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file runs as dist/test/helpers/softphone.js). */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The folder with sipcall, sipcall-lib.js and wavcheck: $CONFSRV_CLIENTS,
 * else the copy vendored in test/e2e/clients, else /work/shared/clients.
 */
export function clientsDir(): string {
	const candidates = [process.env['CONFSRV_CLIENTS'], path.join(REPO_ROOT, 'test', 'e2e', 'clients'), '/work/shared/clients'];
	for (const c of candidates) {
		if (c && existsSync(path.join(c, 'sipcall')) && existsSync(path.join(c, 'sipcall-lib.js'))) {
			return c;
		}
	}
	throw new Error(`sipcall not found (looked in ${candidates.filter(Boolean).join(', ')}); set CONFSRV_CLIENTS`);
}

export const E2E_REQUIRED = process.env['CONFSRV_E2E'] === 'required';

function haveCommand(cmd: string): boolean {
	return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** What is missing for softphone tests ('' if nothing). */
export function missingTools(): string {
	const missing = ['baresip', 'sox'].filter((c) => !haveCommand(c));
	return missing.length ? missing.join(' and ') : '';
}

/**
 * The `skip` option for a softphone test: a message when the tools are
 * missing and e2e is not required, else false. When required but missing,
 * the test runs and `assertSoftphoneTools()` fails it.
 */
export function softphoneSkip(): string | false {
	const missing = missingTools();
	if (!missing || E2E_REQUIRED) {
		return false;
	}
	return `${missing} not installed: softphone e2e test skipped (install with test/e2e/clients/install.sh; CONFSRV_E2E=required makes this a failure)`;
}

/** Throws a clear error when the tools are missing (only reached when CONFSRV_E2E=required). */
export function assertSoftphoneTools(): void {
	const missing = missingTools();
	if (missing) {
		throw new Error(`CONFSRV_E2E=required but ${missing} ${missing.includes(' and ') ? 'are' : 'is'} not installed (run .ci/run or test/e2e/clients/install.sh)`);
	}
}

// ---------------------------------------------------------------------------
// sipcall

export interface SipcallEvent {
	event: string;
	t?: number;
	call?: string;
	[key: string]: unknown;
}

export interface SipcallReady extends SipcallEvent {
	event: 'ready';
	sip_port: number;
}

export interface SipcallCall {
	id: string;
	direction: string;
	peer: string;
	sip_code: number | null;
	setup_ms: number | null;
	connected_s: number | null;
	hangup_by: string | null;
	hangup_reason: string | null;
	codec: string | null;
	dtmf_received: string;
	rtp_rx_ms: number | null;
	telephone_event: boolean | null;
	[key: string]: unknown;
}

/** The final {"event":"result"} object (see the clients README for every field). */
export interface SipcallResult {
	event: 'result';
	ok: boolean;
	role?: string;
	sip_port?: number;
	sip_code: number | null;
	sip_reason: string | null;
	setup_ms?: number | null;
	connected_s?: number | null;
	hangup_by?: string | null;
	hangup_reason?: string | null;
	codec?: string | null;
	dtmf_sent?: string;
	dtmf_received?: string;
	dtmf_sent_negotiated?: boolean | null;
	record?: string | null;
	record_s?: number | null;
	calls?: SipcallCall[];
	warnings?: string[];
	error: string | null;
	workdir?: string | null;
	exit_code: number;
	stderr: string;
	[key: string]: unknown;
}

export interface SipcallHandle {
	child: import('node:child_process').ChildProcess;
	ready: Promise<SipcallReady>;
	result: Promise<SipcallResult>;
	events: SipcallEvent[];
	/** SIGTERM: sipcall hangs up, stops baresip and prints its result. */
	stop(): Promise<SipcallResult>;
}

interface SipcallLib {
	sipcall(args: string[], opts?: { onEvent?: (ev: SipcallEvent) => void }): SipcallHandle;
}

let lib: SipcallLib | null = null;

/** Starts `sipcall` with `args` (see the clients README). */
export function sipcall(args: string[], opts: { onEvent?: (ev: SipcallEvent) => void } = {}): SipcallHandle {
	if (!lib) {
		const require = createRequire(import.meta.url);
		lib = require(path.join(clientsDir(), 'sipcall-lib.js')) as SipcallLib;
	}
	return lib.sipcall(args, opts);
}

/** A short description of a sipcall result for assertion messages. */
export function describeResult(r: SipcallResult): string {
	const { stderr, calls, ...rest } = r;
	return `${JSON.stringify(rest)}${stderr ? `\nstderr: ${stderr.trim().slice(-1500)}` : ''}`;
}

// ---------------------------------------------------------------------------
// wavcheck

export interface WavcheckTone {
	hz: number;
	ratio: number;
	present: boolean;
	present_s: number;
	first_s: number | null;
}

export interface WavcheckResult {
	file: string;
	rate: number;
	channels: number;
	seconds: number;
	rms_dbfs: number;
	active_s: number;
	dominant_hz: number | null;
	tones: WavcheckTone[];
}

/**
 * Runs wavcheck on `file` with extra args (e.g. ['--from', '3', '--freq', '440',
 * '--min-ratio', '0.2']). `code` is 0 when every --freq is present, 1 if not.
 */
export function wavcheck(file: string, args: string[], timeoutMs = 60000): Promise<{ code: number; result: WavcheckResult | null; stdout: string; stderr: string }> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [path.join(clientsDir(), 'wavcheck'), file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
		let stdout = '';
		let stderr = '';
		child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
		child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(new Error(`wavcheck ${file} did not finish within ${timeoutMs} ms`));
		}, timeoutMs);
		child.on('error', (e) => {
			clearTimeout(timer);
			reject(e);
		});
		child.on('close', (code) => {
			clearTimeout(timer);
			let result: WavcheckResult | null = null;
			try {
				result = JSON.parse(stdout.trim().split('\n').pop() ?? '') as WavcheckResult;
			} catch {
				result = null;
			}
			resolve({ code: code ?? -1, result, stdout, stderr });
		});
	});
}

// ---------------------------------------------------------------------------
// files

/** A fresh folder under the OS temp dir; `remove()` deletes it. */
export async function tempDir(prefix = 'confsrv-e2e-'): Promise<{ path: string; remove(): Promise<void> }> {
	const p = await mkdtemp(path.join(os.tmpdir(), prefix));
	return { path: p, remove: () => rm(p, { recursive: true, force: true }) };
}

/** Writes an 8 kHz mono 16-bit WAV of a sine (sox synth) and returns its path. */
export function makeToneWav(dir: string, freq: number, seconds: number, vol = 0.5): string {
	const file = path.join(dir, `tone-${freq}.wav`);
	const r = spawnSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', file, 'synth', String(seconds), 'sine', String(freq), 'vol', String(vol)], { encoding: 'utf8' });
	if (r.status !== 0) {
		throw new Error(`sox failed making ${file}: ${r.error?.message ?? r.stderr}`);
	}
	return file;
}
