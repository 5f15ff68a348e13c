/**
 * What the orchestrator needs from a system under test: where to send SIP
 * (or a driver that joins participants by other means), its process id for
 * /proc figures, and its mixer figures when it can tell them.
 */
import type { Attach } from '../load/types.js';
import type { CodecName } from '../codec/profiles.js';

export interface MixerFigures {
	/** Tick duration percentiles over the server's recent window, µs. */
	tickP50Us: number;
	tickP99Us: number;
	tickMaxUs: number;
	/** Ticks and overruns counted since the server started (summed over workers). */
	ticks: number;
	overruns: number;
	/** Mixer implementation (e.g. 'ts' or 'native'). */
	kernel: string;
	workers: number;
	/** Tick-duration histogram of the measurement window (upper bounds in µs, one more count for overflow). */
	histogram?: { boundsUs: number[]; counts: number[] };
	/** Cumulative histogram since the server started, summed over workers (Prometheus style), when reported. */
	cumulative?: { boundsUs: number[]; counts: number[]; count: number };
}

export interface JoinRequest {
	id: string;
	room: number;
	/** The participant's RTP port on the bind host. */
	port: number;
}

export interface JoinResult {
	attach: Attach[];
	/** Per participant: request → joined, ms. */
	setupMs: Map<string, number>;
	failures: Map<string, string>;
}

export interface Target {
	readonly name: string;
	/** Process to sample in /proc (null: not on this machine / unknown). */
	readonly pid: number | null;
	/** SIP address when participants call in by SIP. */
	readonly sip: { host: string; port: number } | null;
	/** What participants of room r dial (SIP user or room id). */
	dial(room: number): string;
	/** Non-SIP targets: put participants into rooms and say where to send RTP. */
	join?(codec: CodecName, list: JoinRequest[]): Promise<JoinResult>;
	/** Non-SIP targets: take everyone out again. */
	leaveAll?(): Promise<void>;
	/** Latest mixer figures, if the target reports them. */
	mixer(): Promise<MixerFigures | null>;
	/** Still running? */
	alive(): boolean;
	stop(): Promise<void>;
}
