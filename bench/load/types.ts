/**
 * Shapes shared by the load generator, its process wrapper and the run
 * orchestrator. Everything here crosses process boundaries as JSON.
 */
import type { CodecName } from '../codec/profiles.js';
import type { RtpStatsSnapshot } from '../analysis/rtp-stats.js';
import type { MarkerSend } from '../analysis/burst.js';
import type { Summary } from '../analysis/percentiles.js';

export type Signal = 'tone' | 'speech' | 'bursts' | 'silence';

export interface ParticipantSpec {
	/** Unique in the run, e.g. 'r3p7'. */
	id: string;
	/** Room index in the run. */
	room: number;
	/** What to dial: the SIP Request-URI user (room number), or the Janus room id. */
	dial: string;
	signal: Signal;
	/** Tone frequency for signal 'tone'. */
	toneHz: number;
	/** Seed for speech and talk-spurt patterns. */
	seed: number;
	/** Index among the room's marker senders, or -1. */
	markerSlot: number;
	/** How many marker senders the room has. */
	markerSenders: number;
	/** Offset of the room's marker schedule, frames. */
	markerOffset: number;
	/** Decode and analyse what this participant hears. */
	probe: boolean;
}

export interface GeneratorInit {
	codec: CodecName;
	/** Shared time origin (epoch ms): frame k of every generator is due at epochMs + 20·k. */
	epochMs: number;
	markerHz: number;
	markerMs: number;
	markerAmplitude: number;
	/** Frames between two markers in a room. */
	markerIntervalFrames: number;
	/** Detector threshold (envelope, sample units). */
	markerThreshold: number;
	talkAmplitude: number;
	/** Jitter-buffer depth for counting late packets, ms. */
	lateMs: number;
	participants: ParticipantSpec[];
	/** SIP target (absent when another driver signals, e.g. Janus). */
	sip?: { host: string; port: number };
	bindHost: string;
	/** INVITEs per second from this generator. */
	callsPerSecond: number;
	/** Unanswered INVITE transactions at once. */
	maxInFlight: number;
	/** Renice the generator process (root only), e.g. -10. */
	nice?: number;
}

export interface PortInfo {
	id: string;
	port: number;
}

export interface Attach {
	id: string;
	host: string;
	port: number;
	payloadType: number;
}

export interface Progress {
	calling: number;
	up: number;
	failed: number;
	ended: number;
	rxPackets: number;
	txPackets: number;
	/** Packets lost so far in the current window (rough: expected − received). */
	lost: number;
	expected: number;
}

export interface ParticipantReport {
	id: string;
	room: number;
	/** INVITE → 200 OK, ms (null when the call failed or another driver signalled). */
	setupMs: number | null;
	ok: boolean;
	failure?: string;
	/** The far end hung up during the run. */
	remoteBye: boolean;
	sent: number;
	rx: RtpStatsSnapshot;
	/** Onset times (epoch ms) of markers heard, for probes. */
	onsets: number[];
	probe: boolean;
	/** Received payload type, or -1. */
	rxPayloadType: number;
}

export interface GeneratorReport {
	participants: ParticipantReport[];
	markers: Array<MarkerSend & { room: number }>;
	/** How late the 20 ms send timer fired (ms). */
	tickLateness: Summary;
	/** Frames not sent because the generator fell too far behind. */
	skippedFrames: number;
	sendErrors: number;
	/** Generator CPU over the window, ms. */
	cpuUserMs: number;
	cpuSystemMs: number;
	/** Epoch ms when the window opened (reset()). */
	windowStart: number;
	windowMs: number;
}
