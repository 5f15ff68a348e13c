/**
 * The load generator: many lightweight user agents in one process.
 *
 * - One SIP UDP socket for all of them (calls told apart by Call-ID), a tiny
 *   UAC: INVITE with Timer A/B, ACK for 2xx (re-sent on retransmitted 2xx)
 *   and for errors, BYE with retransmissions; it answers BYE and OPTIONS.
 * - One RTP socket per participant, connect()ed to the far end so a send is
 *   one syscall with no address lookup.
 * - One drift-free 20 ms timer for every participant: frame k of every
 *   generator process is due at epochMs + 20·k, so markers line up across
 *   processes. Payloads come from tables encoded before the run; each
 *   participant owns one preallocated packet buffer whose header is written
 *   in place, so the send path allocates nothing of its own.
 * - Receive handlers read the header fields into RtpReceiveStats; only
 *   probes decode the payload and feed a BurstDetector.
 */
import dgram from 'node:dgram';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { BurstDetector, type MarkerSend } from '../analysis/burst.js';
import { Histogram, summarize } from '../analysis/percentiles.js';
import { RtpReceiveStats } from '../analysis/rtp-stats.js';
import { codecProfile, type CodecProfile, type FrameTable, type PayloadDecoder } from '../codec/profiles.js';
import { markerFrames, silenceFrames, speechFrames, spurtLengths, toneFrames } from './signals.js';
import {
	buildMessage,
	buildResponse,
	buildSdp,
	header,
	newBranch,
	parseSdp,
	parseSip,
	randomToken,
	tagOf,
	uriOf,
	type SipMessage,
} from './sip.js';
import type { Attach, GeneratorInit, GeneratorReport, ParticipantReport, ParticipantSpec, PortInfo, Progress } from './types.js';

const FRAME_MS = 20;
const T1 = 500;
const T2 = 4000;
const TIMER_B = 64 * T1;
const BYE_GIVE_UP_MS = 8000;
/** At most this many overdue frames are sent in one go after a stall; older ones are skipped. */
const MAX_CATCH_UP = 3;
const TELEPHONE_EVENT_PT = 101;

/** Epoch milliseconds with sub-millisecond resolution, comparable across processes. */
export function nowEpoch(): number {
	return performance.timeOrigin + performance.now();
}

type CallState = 'idle' | 'calling' | 'up' | 'failed' | 'ended';

class Leg {
	readonly spec: ParticipantSpec;
	readonly sock: dgram.Socket;
	readonly port: number;
	readonly pkt: Buffer;
	readonly ssrc: number;
	readonly stats: RtpReceiveStats;
	readonly det: BurstDetector | null;
	readonly decoder: PayloadDecoder | null;
	readonly pcm: Int16Array | null;
	readonly onsets: number[] = [];
	readonly table: FrameTable;
	readonly spurts: Uint16Array | null;
	seq: number;
	ts: number;
	cursor = 0;
	markerLeft = 0;
	markerCursor = 0;
	spurtIndex = 0;
	spurtLeft = 0;
	sending = false;
	first = true;
	sent = 0;
	sentWindow = 0;
	rxPayloadType = -1;
	// SIP
	state: CallState = 'idle';
	callId = '';
	fromTag = '';
	toTag = '';
	branch = '';
	inviteText = '';
	ackText = '';
	remoteTarget = '';
	routeSet: string[] = [];
	t0 = 0;
	setupMs: number | null = null;
	failure = '';
	remoteBye = false;
	timerA: NodeJS.Timeout | null = null;
	timerB: NodeJS.Timeout | null = null;
	byeDone: (() => void) | null = null;

	constructor(spec: ParticipantSpec, sock: dgram.Socket, profile: CodecProfile, table: FrameTable, init: GeneratorInit) {
		this.spec = spec;
		this.sock = sock;
		this.port = sock.address().port;
		// Exactly one packet long when every payload has the same size (G.711, G.722), so a send needs no slice.
		const sizes = new Set<number>();
		for (let k = 0; k < table.frames; k++) {
			sizes.add(table.offsets[k + 1]! - table.offsets[k]!);
		}
		this.pkt = Buffer.alloc(12 + (sizes.size === 1 && profile.name !== 'opus' ? [...sizes][0]! : profile.maxPayload));
		this.ssrc = (Math.random() * 0xffffffff) >>> 0;
		this.seq = (Math.random() * 0xffff) | 0;
		this.ts = (Math.random() * 0xffffffff) >>> 0;
		this.table = table;
		this.stats = new RtpReceiveStats({ clockRate: profile.clockRate, lateMs: init.lateMs });
		this.spurts = spec.signal === 'bursts' ? spurtLengths(spec.seed, 256) : null;
		if (this.spurts) {
			// Start somewhere in the pattern so rooms do not talk in lockstep.
			this.spurtIndex = spec.seed % 2;
			this.spurtLeft = 1 + (spec.seed % this.spurts[this.spurtIndex]!);
		}
		if (spec.probe) {
			this.det = new BurstDetector({ sampleRate: profile.sampleRate, freq: init.markerHz, threshold: init.markerThreshold });
			this.decoder = profile.createDecoder();
			this.pcm = new Int16Array(profile.frameSamples * 6);
		} else {
			this.det = null;
			this.decoder = null;
			this.pcm = null;
		}
		this.cursor = spec.seed % table.frames;
	}
}

interface Tables {
	silence: FrameTable;
	marker: FrameTable;
	speech: FrameTable;
	tones: Map<number, FrameTable>;
}

function bindUdp(host: string): Promise<dgram.Socket> {
	return new Promise((resolve, reject) => {
		const s = dgram.createSocket('udp4');
		s.once('error', reject);
		s.bind(0, host, () => {
			s.off('error', reject);
			resolve(s);
		});
	});
}

export class LoadGenerator {
	readonly init: GeneratorInit;
	readonly profile: CodecProfile;
	readonly #legs: Leg[] = [];
	readonly #byId = new Map<string, Leg>();
	readonly #byCallId = new Map<string, Leg>();
	readonly #tables: Tables;
	#sip: dgram.Socket | null = null;
	#sipPort = 0;
	#timer: NodeJS.Timeout | null = null;
	#tick = 0;
	#closed = false;
	readonly #lateness = Histogram.exponential(0.25, 1.25, 2000);
	readonly #latenessSamples: number[] = [];
	#skipped = 0;
	#sendErrors = 0;
	#markers: Array<MarkerSend & { room: number }> = [];
	#windowStart = 0;
	#cpuStart: NodeJS.CpuUsage = process.cpuUsage();
	#callQueue: Leg[] = [];
	#inFlight = 0;
	#pump: NodeJS.Timeout | null = null;
	#callsDone: (() => void) | null = null;
	readonly #sendRtp: (leg: Leg, len: number) => void;

	private constructor(init: GeneratorInit, profile: CodecProfile, tables: Tables) {
		this.init = init;
		this.profile = profile;
		this.#tables = tables;
		// No send callback: with one, every datagram costs a completion callback
		// into JS; without, Node tries a synchronous send and reports failures as
		// 'error' events on the socket (counted in #sendErrors).
		this.#sendRtp = (leg, len) => {
			if (len === leg.pkt.length) {
				leg.sock.send(leg.pkt);
			} else {
				leg.sock.send(leg.pkt, 0, len);
			}
		};
	}

	static async create(init: GeneratorInit): Promise<LoadGenerator> {
		if (init.nice !== undefined) {
			try {
				os.setPriority(init.nice);
			} catch {
				// Not root: run at the normal priority.
			}
		}
		const profile = codecProfile(init.codec);
		const tables = buildTables(init, profile);
		const gen = new LoadGenerator(init, profile, tables);
		try {
			if (init.sip) {
				gen.#sip = await bindUdp(init.bindHost);
				gen.#sipPort = gen.#sip.address().port;
				gen.#sip.on('message', (buf, rinfo) => gen.#onSip(buf, rinfo));
				gen.#sip.on('error', () => {});
			}
			for (const spec of init.participants) {
				const sock = await bindUdp(init.bindHost);
				const leg = new Leg(spec, sock, profile, gen.#tableFor(spec), init);
				sock.on('error', () => {
					gen.#sendErrors++;
				});
				sock.on('message', (msg) => gen.#onRtp(leg, msg));
				gen.#legs.push(leg);
				gen.#byId.set(spec.id, leg);
			}
		} catch (error) {
			gen.close();
			throw error;
		}
		gen.#schedule();
		return gen;
	}

	ports(): PortInfo[] {
		return this.#legs.map((l) => ({ id: l.spec.id, port: l.port }));
	}

	/** Places every call (paced); resolves once each is up or failed. */
	callAll(): Promise<void> {
		if (!this.#sip || !this.init.sip) {
			return Promise.reject(new Error('no SIP target'));
		}
		this.#callQueue = this.#legs.filter((l) => l.state === 'idle');
		return new Promise<void>((resolve) => {
			this.#callsDone = resolve;
			const perPump = Math.max(1, Math.round((this.init.callsPerSecond * 10) / 1000));
			let credit = 0;
			const pump = (): void => {
				credit = Math.min(credit + perPump, perPump * 5);
				while (credit >= 1 && this.#callQueue.length > 0 && this.#inFlight < this.init.maxInFlight) {
					credit--;
					this.#invite(this.#callQueue.shift()!);
				}
				this.#checkCallsDone();
			};
			this.#pump = setInterval(pump, 10);
			pump();
		});
	}

	/** Media peers given by another driver (e.g. Janus): start sending to them. */
	attach(list: Attach[]): void {
		for (const a of list) {
			const leg = this.#byId.get(a.id);
			if (!leg) {
				continue;
			}
			this.#startMedia(leg, a.host, a.port);
			leg.state = 'up';
		}
	}

	/** Starts the measurement window. */
	reset(): void {
		const now = nowEpoch();
		this.#windowStart = now;
		this.#cpuStart = process.cpuUsage();
		this.#markers = [];
		this.#lateness.counts.fill(0);
		this.#latenessSamples.length = 0;
		this.#skipped = 0;
		this.#sendErrors = 0;
		for (const leg of this.#legs) {
			leg.stats.reset(now);
			leg.onsets.length = 0;
			leg.sentWindow = 0;
		}
	}

	progress(): Progress {
		const p: Progress = { calling: 0, up: 0, failed: 0, ended: 0, rxPackets: 0, txPackets: 0, lost: 0, expected: 0 };
		const now = nowEpoch();
		for (const leg of this.#legs) {
			switch (leg.state) {
				case 'calling':
					p.calling++;
					break;
				case 'up':
					p.up++;
					break;
				case 'failed':
					p.failed++;
					break;
				case 'ended':
					p.ended++;
					break;
				default:
					break;
			}
			p.txPackets += leg.sent;
			if (leg.state === 'up' && this.#windowStart > 0) {
				const s = leg.stats.snapshot(now);
				p.rxPackets += s.received;
				p.lost += s.lost;
				p.expected += s.expected;
			}
		}
		return p;
	}

	/** Figures for the window since reset(). */
	collect(): GeneratorReport {
		const now = nowEpoch();
		const cpu = process.cpuUsage(this.#cpuStart);
		const participants: ParticipantReport[] = this.#legs.map((leg) => {
			const r: ParticipantReport = {
				id: leg.spec.id,
				room: leg.spec.room,
				setupMs: leg.setupMs,
				ok: leg.state === 'up',
				remoteBye: leg.remoteBye,
				sent: leg.sentWindow,
				rx: leg.stats.snapshot(now),
				onsets: [...leg.onsets],
				probe: leg.spec.probe,
				rxPayloadType: leg.rxPayloadType,
			};
			if (leg.failure) {
				r.failure = leg.failure;
			}
			return r;
		});
		return {
			participants,
			markers: [...this.#markers],
			tickLateness: summarize(this.#latenessSamples),
			skippedFrames: this.#skipped,
			sendErrors: this.#sendErrors,
			cpuUserMs: cpu.user / 1000,
			cpuSystemMs: cpu.system / 1000,
			windowStart: this.#windowStart,
			windowMs: now - this.#windowStart,
		};
	}

	/** BYE for every call that is up; resolves when all are answered or given up. */
	async hangup(): Promise<void> {
		const up = this.#legs.filter((l) => l.state === 'up' || l.state === 'calling');
		const waits: Array<Promise<void>> = [];
		for (let i = 0; i < up.length; i++) {
			const leg = up[i]!;
			leg.sending = false;
			if (!this.#sip || leg.state !== 'up' || !leg.toTag) {
				leg.state = 'ended';
				continue;
			}
			waits.push(this.#bye(leg));
			if (i % 50 === 49) {
				await new Promise((r) => setTimeout(r, 10));
			}
		}
		await Promise.all(waits);
	}

	/** Stops sending media (without signalling), e.g. before another driver's leave. */
	stopMedia(): void {
		for (const leg of this.#legs) {
			leg.sending = false;
			if (leg.state === 'up') {
				leg.state = 'ended';
			}
		}
	}

	close(): void {
		if (this.#closed) {
			return;
		}
		this.#closed = true;
		if (this.#timer) {
			clearTimeout(this.#timer);
		}
		if (this.#pump) {
			clearInterval(this.#pump);
		}
		for (const leg of this.#legs) {
			clearLegTimers(leg);
			leg.sock.close();
		}
		this.#sip?.close();
		this.#callsDone?.();
	}

	// ---- media ---------------------------------------------------------

	#tableFor(spec: ParticipantSpec): FrameTable {
		switch (spec.signal) {
			case 'tone': {
				let t = this.#tables.tones.get(spec.toneHz);
				if (!t) {
					const p = this.profile;
					t = p.encodeTable(toneFrames(spec.toneHz, this.init.talkAmplitude, p.sampleRate, p.frameSamples));
					this.#tables.tones.set(spec.toneHz, t);
				}
				return t;
			}
			case 'speech':
			case 'bursts':
				return this.#tables.speech;
			default:
				return this.#tables.silence;
		}
	}

	#startMedia(leg: Leg, host: string, port: number): void {
		leg.sock.connect(port, host, () => {
			if (leg.state === 'up') {
				leg.sending = true;
			}
		});
	}

	#schedule(): void {
		if (this.#closed) {
			return;
		}
		const now = nowEpoch();
		if (this.#tick === 0) {
			this.#tick = Math.max(0, Math.floor((now - this.init.epochMs) / FRAME_MS));
		}
		const due = this.init.epochMs + (this.#tick + 1) * FRAME_MS;
		this.#timer = setTimeout(() => this.#onTimer(), Math.max(0, due - now));
	}

	#onTimer(): void {
		const now = nowEpoch();
		const target = Math.floor((now - this.init.epochMs) / FRAME_MS);
		const lateness = now - (this.init.epochMs + (this.#tick + 1) * FRAME_MS);
		this.#lateness.record(lateness);
		if (this.#latenessSamples.length < 200_000) {
			this.#latenessSamples.push(lateness);
		}
		let next = this.#tick + 1;
		if (target - next >= MAX_CATCH_UP) {
			const skip = target - next - MAX_CATCH_UP + 1;
			this.#skipFrames(skip);
			next += skip;
		}
		for (; next <= target; next++) {
			this.#sendFrame(next);
		}
		this.#tick = target;
		this.#schedule();
	}

	#skipFrames(n: number): void {
		for (const leg of this.#legs) {
			if (leg.sending) {
				leg.seq = (leg.seq + n) & 0xffff;
				leg.ts = (leg.ts + n * this.profile.tsPerFrame) >>> 0;
				this.#skipped += n;
			}
		}
	}

	#sendFrame(k: number): void {
		const legs = this.#legs;
		const tables = this.#tables;
		const pt = this.profile.payloadType;
		const tsStep = this.profile.tsPerFrame;
		const interval = this.init.markerIntervalFrames;
		let at = 0;
		for (let i = 0; i < legs.length; i++) {
			const leg = legs[i]!;
			if (!leg.sending) {
				continue;
			}
			const spec = leg.spec;
			let table = leg.table;
			let frame: number;
			if (spec.markerSlot >= 0 && leg.markerLeft === 0) {
				const rel = k - spec.markerOffset;
				if (rel >= 0 && rel % interval === 0 && ((rel / interval) % spec.markerSenders) === spec.markerSlot) {
					leg.markerLeft = tables.marker.frames;
					leg.markerCursor = 0;
					if (at === 0) {
						at = nowEpoch();
					}
					this.#markers.push({ at, from: spec.id, room: spec.room });
				}
			}
			if (leg.markerLeft > 0) {
				table = tables.marker;
				frame = leg.markerCursor++;
				leg.markerLeft--;
			} else if (leg.spurts) {
				if (--leg.spurtLeft <= 0) {
					leg.spurtIndex = (leg.spurtIndex + 1) % leg.spurts.length;
					leg.spurtLeft = leg.spurts[leg.spurtIndex]!;
				}
				// Even entries are talk spurts, odd ones pauses.
				if ((leg.spurtIndex & 1) === 0) {
					frame = leg.cursor;
					leg.cursor = leg.cursor + 1 === table.frames ? 0 : leg.cursor + 1;
				} else {
					table = tables.silence;
					frame = 0;
				}
			} else {
				frame = leg.cursor;
				leg.cursor = leg.cursor + 1 === table.frames ? 0 : leg.cursor + 1;
			}
			const pkt = leg.pkt;
			const seq = leg.seq;
			const ts = leg.ts;
			const ssrc = leg.ssrc;
			pkt[0] = 0x80;
			pkt[1] = leg.first ? 0x80 | pt : pt;
			pkt[2] = seq >>> 8;
			pkt[3] = seq & 0xff;
			pkt[4] = ts >>> 24;
			pkt[5] = (ts >>> 16) & 0xff;
			pkt[6] = (ts >>> 8) & 0xff;
			pkt[7] = ts & 0xff;
			pkt[8] = ssrc >>> 24;
			pkt[9] = (ssrc >>> 16) & 0xff;
			pkt[10] = (ssrc >>> 8) & 0xff;
			pkt[11] = ssrc & 0xff;
			const start = table.offsets[frame]!;
			const end = table.offsets[frame + 1]!;
			table.data.copy(pkt, 12, start, end);
			this.#sendRtp(leg, 12 + end - start);
			leg.first = false;
			leg.seq = (seq + 1) & 0xffff;
			leg.ts = (ts + tsStep) >>> 0;
			leg.sent++;
			leg.sentWindow++;
		}
	}

	#onRtp(leg: Leg, msg: Buffer): void {
		const len = msg.length;
		if (len < 12 || (msg[0]! & 0xc0) !== 0x80) {
			return;
		}
		const b1 = msg[1]!;
		if (b1 >= 192 && b1 <= 223) {
			return; // RTCP
		}
		const pt = b1 & 0x7f;
		if (pt === TELEPHONE_EVENT_PT) {
			return;
		}
		const now = nowEpoch();
		leg.rxPayloadType = pt;
		const seq = (msg[2]! << 8) | msg[3]!;
		const ts = msg[4]! * 0x1000000 + ((msg[5]! << 16) | (msg[6]! << 8) | msg[7]!);
		const ssrc = msg[8]! * 0x1000000 + ((msg[9]! << 16) | (msg[10]! << 8) | msg[11]!);
		leg.stats.onPacket(seq, ts, now, ssrc);
		if (leg.det !== null) {
			const b0 = msg[0]!;
			let off = 12 + (b0 & 0x0f) * 4;
			if ((b0 & 0x10) !== 0 && off + 4 <= len) {
				off += 4 + ((msg[off + 2]! << 8) | msg[off + 3]!) * 4;
			}
			let end = len;
			if ((b0 & 0x20) !== 0) {
				end -= msg[len - 1]!;
			}
			if (off < end) {
				const n = leg.decoder!.decode(msg, off, end - off, leg.pcm!);
				leg.det.push(leg.pcm!, 0, n, now);
				const onsets = leg.det.onsets;
				if (onsets.length > 0) {
					for (const o of onsets) {
						leg.onsets.push(o);
					}
					onsets.length = 0;
				}
			}
		}
	}

	// ---- SIP -----------------------------------------------------------

	#sendSip(text: string): void {
		const sip = this.init.sip!;
		this.#sip?.send(text, sip.port, sip.host);
	}

	#invite(leg: Leg): void {
		const sip = this.init.sip!;
		const host = this.init.bindHost;
		const user = `bench-${leg.spec.id}`;
		leg.callId = `${randomToken(10)}@bench`;
		leg.fromTag = randomToken(6);
		leg.branch = newBranch();
		const p = this.profile;
		const sdpOpts = {
			host,
			port: leg.port,
			sessionId: (Math.random() * 1e9) | 0,
			pt: p.payloadType,
			rtpmap: p.rtpmap,
			telephoneEventPt: TELEPHONE_EVENT_PT,
		};
		const sdp = buildSdp(p.fmtp ? { ...sdpOpts, fmtp: p.fmtp } : sdpOpts);
		const ruri = `sip:${leg.spec.dial}@${sip.host}:${sip.port}`;
		leg.inviteText = buildMessage(
			`INVITE ${ruri} SIP/2.0`,
			[
				['Via', `SIP/2.0/UDP ${host}:${this.#sipPort};branch=${leg.branch};rport`],
				['Max-Forwards', '70'],
				['From', `<sip:${user}@${host}:${this.#sipPort}>;tag=${leg.fromTag}`],
				['To', `<${ruri}>`],
				['Call-ID', leg.callId],
				['CSeq', '1 INVITE'],
				['Contact', `<sip:${user}@${host}:${this.#sipPort}>`],
				['User-Agent', 'confsrv-bench'],
				['Content-Type', 'application/sdp'],
			],
			sdp,
		);
		leg.state = 'calling';
		leg.t0 = nowEpoch();
		this.#byCallId.set(leg.callId, leg);
		this.#inFlight++;
		this.#sendSip(leg.inviteText);
		let interval = T1;
		const retransmit = (): void => {
			this.#sendSip(leg.inviteText);
			interval = Math.min(interval * 2, T2);
			leg.timerA = setTimeout(retransmit, interval);
		};
		leg.timerA = setTimeout(retransmit, interval);
		leg.timerB = setTimeout(() => this.#callFailed(leg, 'timeout'), TIMER_B);
	}

	#callFailed(leg: Leg, why: string): void {
		if (leg.state !== 'calling') {
			return;
		}
		clearLegTimers(leg);
		leg.state = 'failed';
		leg.failure = why;
		this.#inFlight--;
		this.#checkCallsDone();
	}

	#checkCallsDone(): void {
		if (this.#callsDone && this.#callQueue.length === 0 && this.#inFlight === 0) {
			const done = this.#callsDone;
			this.#callsDone = null;
			if (this.#pump) {
				clearInterval(this.#pump);
				this.#pump = null;
			}
			done();
		}
	}

	#onSip(buf: Buffer, rinfo: dgram.RemoteInfo): void {
		const msg = parseSip(buf.toString('latin1'));
		if (!msg) {
			return;
		}
		const leg = this.#byCallId.get(header(msg, 'call-id') ?? '');
		if (msg.isRequest) {
			this.#onRequest(msg, leg, rinfo);
			return;
		}
		if (!leg) {
			return;
		}
		const method = (header(msg, 'cseq') ?? '').split(/\s+/)[1]?.toUpperCase();
		if (method === 'INVITE') {
			this.#onInviteResponse(leg, msg);
		} else if (method === 'BYE' && msg.status >= 200) {
			clearLegTimers(leg);
			leg.byeDone?.();
		}
	}

	#onInviteResponse(leg: Leg, msg: SipMessage): void {
		if (msg.status < 200) {
			if (leg.timerA) {
				clearTimeout(leg.timerA);
				leg.timerA = null;
			}
			return;
		}
		if (msg.status >= 300) {
			if (leg.state === 'calling') {
				// ACK for a non-2xx final response: same branch, To with the response's tag (§17.1.1.3).
				const sip = this.init.sip!;
				const ruri = `sip:${leg.spec.dial}@${sip.host}:${sip.port}`;
				this.#sendSip(
					buildMessage(`ACK ${ruri} SIP/2.0`, [
						['Via', `SIP/2.0/UDP ${this.init.bindHost}:${this.#sipPort};branch=${leg.branch};rport`],
						['Max-Forwards', '70'],
						['From', `<sip:bench-${leg.spec.id}@${this.init.bindHost}:${this.#sipPort}>;tag=${leg.fromTag}`],
						['To', header(msg, 'to') ?? ''],
						['Call-ID', leg.callId],
						['CSeq', '1 ACK'],
					]),
				);
				this.#callFailed(leg, `${msg.status} ${msg.reason}`);
			}
			return;
		}
		if (leg.state !== 'calling') {
			// A retransmitted 2xx: our ACK was lost.
			if (leg.ackText) {
				this.#sendSip(leg.ackText);
			}
			return;
		}
		clearLegTimers(leg);
		leg.setupMs = nowEpoch() - leg.t0;
		leg.toTag = tagOf(header(msg, 'to'));
		leg.remoteTarget = uriOf(header(msg, 'contact') ?? `sip:${leg.spec.dial}@${this.init.sip!.host}:${this.init.sip!.port}`);
		leg.routeSet = (msg.headers.get('record-route') ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).reverse();
		leg.ackText = this.#inDialogRequest(leg, 'ACK', 1);
		this.#sendSip(leg.ackText);
		this.#inFlight--;
		const sdp = parseSdp(msg.body);
		if (!sdp) {
			leg.state = 'failed';
			leg.failure = '2xx without usable SDP';
		} else {
			leg.state = 'up';
			this.#startMedia(leg, sdp.host, sdp.port);
		}
		this.#checkCallsDone();
	}

	#inDialogRequest(leg: Leg, method: string, cseq: number): string {
		const host = this.init.bindHost;
		const headers: Array<readonly [string, string]> = [
			['Via', `SIP/2.0/UDP ${host}:${this.#sipPort};branch=${newBranch()};rport`],
			['Max-Forwards', '70'],
			['From', `<sip:bench-${leg.spec.id}@${host}:${this.#sipPort}>;tag=${leg.fromTag}`],
			['To', `<sip:${leg.spec.dial}@${this.init.sip!.host}:${this.init.sip!.port}>;tag=${leg.toTag}`],
			['Call-ID', leg.callId],
			['CSeq', `${cseq} ${method}`],
		];
		for (const r of leg.routeSet) {
			headers.push(['Route', r]);
		}
		return buildMessage(`${method} ${leg.remoteTarget} SIP/2.0`, headers);
	}

	#bye(leg: Leg): Promise<void> {
		return new Promise<void>((resolve) => {
			const text = this.#inDialogRequest(leg, 'BYE', 2);
			leg.state = 'ended';
			let interval = T1;
			const done = (): void => {
				clearLegTimers(leg);
				leg.byeDone = null;
				resolve();
			};
			leg.byeDone = done;
			this.#sendSip(text);
			const retransmit = (): void => {
				this.#sendSip(text);
				interval = Math.min(interval * 2, T2);
				leg.timerA = setTimeout(retransmit, interval);
			};
			leg.timerA = setTimeout(retransmit, interval);
			leg.timerB = setTimeout(done, BYE_GIVE_UP_MS);
		});
	}

	#onRequest(msg: SipMessage, leg: Leg | undefined, rinfo: dgram.RemoteInfo): void {
		const reply = (status: number, reason: string): void => {
			this.#sip?.send(buildResponse(msg, status, reason, leg?.fromTag ?? randomToken(4)), rinfo.port, rinfo.address);
		};
		switch (msg.method) {
			case 'ACK':
				return;
			case 'BYE':
				if (!leg) {
					reply(481, 'Call/Transaction Does Not Exist');
					return;
				}
				reply(200, 'OK');
				if (leg.state === 'up') {
					leg.remoteBye = true;
					leg.state = 'ended';
					leg.sending = false;
				}
				return;
			case 'OPTIONS':
			case 'INFO':
			case 'NOTIFY':
			case 'UPDATE':
				reply(200, 'OK');
				return;
			case 'INVITE':
				// A re-INVITE: keep the media as it is.
				if (leg) {
					const p = this.profile;
					const sdp = buildSdp({ host: this.init.bindHost, port: leg.port, sessionId: 1, pt: p.payloadType, rtpmap: p.rtpmap, telephoneEventPt: TELEPHONE_EVENT_PT });
					this.#sip?.send(
						buildResponse(msg, 200, 'OK', leg.fromTag, [['Contact', `<sip:bench-${leg.spec.id}@${this.init.bindHost}:${this.#sipPort}>`], ['Content-Type', 'application/sdp']], sdp),
						rinfo.port,
						rinfo.address,
					);
				} else {
					reply(481, 'Call/Transaction Does Not Exist');
				}
				return;
			default:
				reply(501, 'Not Implemented');
		}
	}
}

function clearLegTimers(leg: Leg): void {
	if (leg.timerA) {
		clearTimeout(leg.timerA);
		leg.timerA = null;
	}
	if (leg.timerB) {
		clearTimeout(leg.timerB);
		leg.timerB = null;
	}
}

function buildTables(init: GeneratorInit, p: CodecProfile): Tables {
	const rate = p.sampleRate;
	const fs = p.frameSamples;
	return {
		silence: p.encodeTable(silenceFrames(fs)),
		marker: p.encodeTable(markerFrames(init.markerHz, init.markerAmplitude, init.markerMs, rate, fs)),
		speech: p.encodeTable(speechFrames(12345, init.talkAmplitude, rate, fs)),
		tones: new Map(),
	};
}
