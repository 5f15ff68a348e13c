import { randomBytes } from 'node:crypto';
import type dgram from 'node:dgram';
import { InvalidStateError } from '../common/errors.js';
import { TypedEmitter } from '../common/events.js';
import { logger } from '../common/logger.js';
import { realClock, type Clock, type TimerHandle } from '../common/time.js';
import { PcmRing } from '../mixer/ring-buffer.js';
import type { AudioCodec } from './codecs/codec.js';
import { canonicalCodecName, createCodec, defaultClockRate, isCodecSupported } from './codecs/index.js';
import { Resampler } from './codecs/resample.js';
import { DtmfReceiver } from './codecs/telephone-event.js';
import { PromptQueue, type PlaybackHandle, type PlayOptions } from './player/queue.js';
import type { Prompt } from './player/prompt.js';
import type { RtpPortAllocator } from './ports.js';
import { Recorder, type RecordOptions, type RecordingHandle } from './recorder/recorder.js';
import {
	RTP_HEADER_SIZE,
	isRtcp,
	payloadEnd,
	payloadOffset,
	readSeq,
	readSsrc,
	readTimestamp,
	writeHeader,
} from './rtp/header.js';
import { seqDiff } from './rtp/seq.js';

export type MediaLegEvents = {
	/** One per key press (RFC 4733), '0'-'9', '*', '#', 'A'-'D'. */
	dtmf: [digit: string];
	/** No RTP for rtpTimeoutMs since start() or the last packet; emitted once. */
	rtptimeout: [];
	/** Symmetric RTP moved the send target to where RTP comes from. */
	remotechanged: [address: string, port: number];
	close: [];
};

export interface MediaLegOptions {
	allocator: RtpPortAllocator;
	/**
	 * The room's mix rate (Hz): 8000, 16000 or 48000. The rings carry 20 ms
	 * frames at this rate; the leg resamples to and from its codec's rate.
	 * Default: frameSamples × 50.
	 */
	mixRate?: number;
	/** Samples per 20 ms mixer frame (mixRate / 50: 160, 320 or 960). Default: from mixRate. */
	frameSamples?: number;
	/** 0 disables the RTP timeout. */
	rtpTimeoutMs: number;
	/** Frames per ring (rounded up to a power of two); default 8 = 160 ms. */
	ringSlots?: number;
	/** Time source for the RTP timeout and lastRtpAt; tests pass a ManualClock. */
	clock?: Clock;
}

/** What the SDP says about the far end. */
export interface RemoteMediaParams {
	address: string;
	port: number;
	/** SDP encoding name, case-insensitive: PCMU, PCMA, G722, opus, L16. */
	codec: string;
	/** RTP clock rate from the rtpmap; default the codec's usual one (opus 48000, others 8000). */
	clockRate?: number;
	/** The far end's fmtp config for the codec's payload type (Opus: useinbandfec, usedtx …). */
	fmtp?: string;
	payloadType: number;
	telephoneEventPt?: number;
	/** Clock rate of the telephone-event payload type; default 8000. */
	telephoneEventClockRate?: number;
}

/** Mix rates a leg can resample to and from (integer ratios with every codec rate). */
const MIX_RATES: ReadonlySet<number> = new Set([8000, 16000, 48000]);
/** One frame: the mixer's tick and our packetization time. */
const FRAME_MS = 20;

/**
 * Packets in a row from a new source before symmetric RTP re-latches to it, so
 * a stray or spoofed packet cannot steal the stream while the peer is talking.
 */
const RELATCH_PACKETS = 5;
/** A forward jump beyond this is a sender restart, not loss (RFC 3550 A.1). */
const MAX_DROPOUT = 3000;
/** Sequence numbers this far behind are late or duplicate; further means a restart. */
const MAX_MISORDER = 100;
/** Mix frames queued beyond this are dropped, bounding send latency to 60 ms. */
const MAX_BACKLOG = 3;
const DEFAULT_RING_SLOTS = 8;
/** Scratch buffers grow in these steps (STYLE 9). */
const GROW_STEP = 4096;
/** Room for any packet we send: one Ethernet MTU of payload. */
const MAX_PACKET = 1500;

function roundUp(n: number): number {
	return Math.ceil(n / GROW_STEP) * GROW_STEP;
}

/** mixRate and frameSamples from the options, either giving the other; TypeError when they are bad or disagree. */
function frameShape(opts: MediaLegOptions): { mixRate: number; frameSamples: number } {
	const mixRate = opts.mixRate ?? (opts.frameSamples !== undefined ? (opts.frameSamples * 1000) / FRAME_MS : NaN);
	if (!MIX_RATES.has(mixRate)) {
		throw new TypeError(
			opts.mixRate === undefined ? `frameSamples ${String(opts.frameSamples)} is out of range` : `mixRate ${mixRate} is not 8000, 16000 or 48000`,
		);
	}
	const frameSamples = (mixRate * FRAME_MS) / 1000;
	if (opts.frameSamples !== undefined && opts.frameSamples !== frameSamples) {
		throw new TypeError(`frameSamples ${opts.frameSamples} is not 20 ms at ${mixRate} Hz`);
	}
	return { mixRate, frameSamples };
}

/**
 * One call's RTP endpoint: its UDP socket, codec state and the two PCM rings
 * that connect it to a mixer room. The receive path decodes RTP into whole
 * frames in `toMixer`; a shared MediaClock calls sendFrame() every frame to
 * encode one frame from `fromMixer` (or silence) and send it, so RTP flows
 * continuously. Both paths parse and write headers in place in preallocated
 * buffers and allocate nothing per packet (the Opus binding itself returns a
 * new Buffer per call).
 *
 * The rings carry 20 ms frames at the room's mix rate (8, 16 or 48 kHz); the
 * codec works at its own rate (G.711 8 kHz, G.722 16 kHz, Opus 48 kHz, L16
 * 8 or 16 kHz), and a windowed-sinc Resampler per direction converts between
 * the two, made once per codec change:
 *
 *   RTP ─► decode (codec rate) ─► stage 20 ms ─► Resampler ─► toMixer (mix rate)
 *   RTP ◄─ encode (codec rate) ◄─ Resampler ◄─ fromMixer (mix rate)
 *
 * RTP timestamps advance by the codec's RTP clock per 20 ms, which is not its
 * audio rate for G.722 (160 per 320 samples).
 */
export class MediaLeg extends TypedEmitter<MediaLegEvents> {
	readonly localPort: number;
	/** Room mix rate (Hz) of the rings. */
	readonly mixRate: number;
	/** Samples per 20 ms ring frame, at mixRate. */
	readonly frameSamples: number;
	/** Decoded PCM frames from the caller, for the mixer. */
	readonly toMixer: PcmRing;
	/** Mix frames for the caller, from the mixer. */
	readonly fromMixer: PcmRing;

	readonly #socket: dgram.Socket;
	readonly #allocator: RtpPortAllocator;
	readonly #clock: Clock;
	readonly #rtpTimeoutMs: number;
	#closed = false;
	#started = false;

	// Remote, from setRemote() and symmetric RTP.
	#codec: AudioCodec | undefined;
	/** name/clock/fmtp of #codec: a re-INVITE with the same one keeps its state. */
	#codecKey = '';
	/** Codec-rate samples per 20 ms frame. */
	#codecFrame = 0;
	/** RTP timestamp units per 20 ms frame (G.722: 160 for 320 samples). */
	#tsStep = 0;
	/** codec rate → mix rate and back; undefined when the rates are equal. */
	#rxResampler: Resampler | undefined;
	#txResampler: Resampler | undefined;
	#pt = -1;
	#tePt = -1;
	#teClock = 8000;
	#sdpAddress = '';
	#sdpPort = 0;
	#sendAddress = '';
	#sendPort = 0;
	#latched = false;
	#candAddress = '';
	#candPort = 0;
	#candCount = 0;

	// Receive path: decoded codec-rate PCM is staged until a whole 20 ms frame
	// is there, then resampled into #rxFrame (mix rate) for the ring.
	#rxSsrc = -1;
	#rxSeq = 0;
	#staging: Int16Array;
	#stagingFrame: Int16Array;
	#staged = 0;
	readonly #rxFrame: Int16Array;
	#dtmf = new DtmfReceiver();

	// Send path. Two packet buffers alternate because a datagram the kernel
	// could not take at once (EAGAIN) stays queued referencing its buffer.
	readonly #pktA: Buffer;
	readonly #pktB: Buffer;
	#useB = false;
	readonly #frame: Int16Array;
	readonly #silence: Int16Array;
	/** The mix frame resampled to the codec rate. */
	#txFrame: Int16Array;
	#seq: number;
	#ts: number;
	readonly #ssrc: number;
	#marker = true;

	// Prompts this caller hears on top of the mix; the recording of what they say.
	readonly #prompts: PromptQueue;
	#recorder: Recorder | undefined;

	// RTP timeout.
	#timer: TimerHandle | undefined;
	#since = 0;

	#packetsIn = 0;
	#packetsOut = 0;
	#bytesIn = 0;
	#bytesOut = 0;
	#packetsDropped = 0;
	#packetsLost = 0;
	#rtcpIn = 0;
	#lastRtpAt: number | undefined;

	/** Binds a port from the allocator and returns a leg that is not started yet. */
	static async create(opts: MediaLegOptions): Promise<MediaLeg> {
		const { rtpTimeoutMs } = opts;
		frameShape(opts);
		if (!(rtpTimeoutMs >= 0)) {
			throw new TypeError('rtpTimeoutMs must be ≥ 0');
		}
		const { socket, port } = await opts.allocator.allocate();
		return new MediaLeg(socket, port, opts);
	}

	/** @internal Use MediaLeg.create(). */
	constructor(socket: dgram.Socket, port: number, opts: MediaLegOptions) {
		super();
		this.#socket = socket;
		this.localPort = port;
		this.#allocator = opts.allocator;
		this.#clock = opts.clock ?? realClock;
		this.#rtpTimeoutMs = opts.rtpTimeoutMs;
		const { mixRate, frameSamples: fs } = frameShape(opts);
		this.mixRate = mixRate;
		this.frameSamples = fs;
		const slots = opts.ringSlots ?? DEFAULT_RING_SLOTS;
		this.toMixer = PcmRing.create(slots, fs);
		this.fromMixer = PcmRing.create(slots, fs);
		this.#staging = new Int16Array(roundUp(fs * 4));
		this.#stagingFrame = this.#staging.subarray(0, fs);
		this.#rxFrame = new Int16Array(fs);
		this.#pktA = Buffer.alloc(RTP_HEADER_SIZE + MAX_PACKET);
		this.#pktB = Buffer.alloc(RTP_HEADER_SIZE + MAX_PACKET);
		this.#frame = new Int16Array(fs);
		this.#silence = new Int16Array(fs);
		this.#txFrame = this.#frame;
		this.#prompts = new PromptQueue(mixRate);
		// RFC 3550 §5.1: random initial sequence number, timestamp and SSRC.
		const rnd = randomBytes(10);
		this.#ssrc = rnd.readUInt32BE(0);
		this.#ts = rnd.readUInt32BE(4);
		this.#seq = rnd.readUInt16BE(8);
		socket.on('message', (msg, rinfo) => this.handlePacket(msg, rinfo.address, rinfo.port));
		// Without a listener a socket error would crash the process.
		socket.on('error', (err) => logger.warn({ err, port }, 'RTP socket error'));
	}

	get closed(): boolean {
		return this.#closed;
	}

	get codec(): AudioCodec | undefined {
		return this.#codec;
	}

	/** Where RTP is sent: the SDP address until RTP latches it; '' before setRemote(). */
	get remoteAddress(): string {
		return this.#sendAddress;
	}

	get remotePort(): number {
		return this.#sendPort;
	}

	/** Our SSRC on the send path. */
	get ssrc(): number {
		return this.#ssrc;
	}

	get packetsIn(): number {
		return this.#packetsIn;
	}

	get packetsOut(): number {
		return this.#packetsOut;
	}

	get bytesIn(): number {
		return this.#bytesIn;
	}

	get bytesOut(): number {
		return this.#bytesOut;
	}

	/** Malformed, unknown-PT, foreign-source, late and duplicate packets. */
	/** Sequence-number gaps on the current SSRC (late arrivals are then dropped, not un-lost). */
	get packetsLost(): number {
		return this.#packetsLost;
	}

	get packetsDropped(): number {
		return this.#packetsDropped;
	}

	get rtcpIn(): number {
		return this.#rtcpIn;
	}

	/** clock.now() of the last RTP packet from the remote, undefined before the first. */
	get lastRtpAt(): number | undefined {
		return this.#lastRtpAt;
	}

	/** Whether a prompt is playing (or queued) to this caller: their frames are not the shared mix then. */
	get playing(): boolean {
		return this.#prompts.active;
	}

	/** Whether a recording of this caller is running. */
	get recording(): boolean {
		return this.#recorder !== undefined;
	}

	/**
	 * Plays a prompt to this caller, mixed (saturating) on top of whatever
	 * the mixer sends them, or alone when the leg is in no room (IVR before
	 * joining). The prompt is converted to the mix rate once (cached on the
	 * Prompt). Audio advances on the send tick, so the leg must be on the
	 * MediaClock. 'queue' plays after what is playing; 'interrupt' ends it.
	 */
	play(prompt: Prompt, opts: PlayOptions = {}): PlaybackHandle {
		if (this.#closed) {
			throw new InvalidStateError('media leg closed');
		}
		return this.#prompts.play(prompt, opts);
	}

	/** Stops every prompt playing or queued to this caller. */
	stopPlayback(): void {
		this.#prompts.stop();
	}

	/**
	 * Records what this caller says (their decoded audio at the mix rate,
	 * before mute, without in-band DTMF tones) to a WAV file: a name
	 * announcement, a voicemail. One recording at a time per leg; the leg
	 * does not need to be in a room.
	 */
	record(opts: RecordOptions): RecordingHandle {
		if (this.#closed) {
			throw new InvalidStateError('media leg closed');
		}
		if (this.#recorder !== undefined) {
			throw new InvalidStateError('this leg is already recording');
		}
		const rec = new Recorder(opts, this.mixRate);
		rec.onStop = () => {
			if (this.#recorder === rec) {
				this.#recorder = undefined;
			}
		};
		if (!rec.stopped) {
			this.#recorder = rec;
		}
		return rec;
	}

	/**
	 * Sets (or, on a re-INVITE, updates) the far end from its SDP. A new address
	 * or port drops the symmetric-RTP latch; the same one keeps it, so a peer
	 * behind NAT stays reachable across re-INVITEs. The same codec (name, clock
	 * rate and fmtp) keeps its state; another one gets a fresh codec instance
	 * and resamplers. The first call also start()s the RTP timeout: from here
	 * on RTP is expected.
	 */
	setRemote(params: RemoteMediaParams): void {
		if (this.#closed) {
			throw new InvalidStateError('media leg closed');
		}
		const { address, port, codec, payloadType, telephoneEventPt } = params;
		const name = typeof codec === 'string' ? canonicalCodecName(codec) : undefined;
		const clockRate = params.clockRate ?? (name !== undefined ? defaultClockRate(name) : 0);
		const teClock = params.telephoneEventClockRate ?? 8000;
		if (typeof address !== 'string' || address === '') {
			throw new TypeError('remote address is empty');
		}
		if (!Number.isInteger(port) || port < 1 || port > 65535) {
			throw new TypeError(`remote port ${port} is invalid`);
		}
		if (!Number.isInteger(payloadType) || payloadType < 0 || payloadType > 127) {
			throw new TypeError(`payload type ${payloadType} is invalid`);
		}
		if (
			telephoneEventPt !== undefined &&
			(!Number.isInteger(telephoneEventPt) || telephoneEventPt < 0 || telephoneEventPt > 127 || telephoneEventPt === payloadType)
		) {
			throw new TypeError(`telephone-event payload type ${telephoneEventPt} is invalid`);
		}
		if (!Number.isInteger(teClock) || teClock <= 0) {
			throw new TypeError(`telephone-event clock rate ${teClock} is invalid`);
		}
		if (name === undefined || !isCodecSupported(name, clockRate)) {
			throw new TypeError(`codec ${String(codec)}/${clockRate} is not supported`);
		}
		const key = `${name}/${clockRate};${params.fmtp ?? ''}`;
		if (key !== this.#codecKey) {
			this.#useCodec(createCodec(name, clockRate, params.fmtp));
			this.#codecKey = key;
		}
		this.#pt = payloadType;
		this.#tePt = telephoneEventPt ?? -1;
		if (teClock !== this.#teClock) {
			this.#teClock = teClock;
			this.#dtmf = new DtmfReceiver(teClock);
		}
		if (address !== this.#sdpAddress || port !== this.#sdpPort) {
			this.#sdpAddress = address;
			this.#sdpPort = port;
			this.#sendAddress = address;
			this.#sendPort = port;
			this.#latched = false;
			this.#candCount = 0;
		}
		this.start();
	}

	/**
	 * Arms the RTP timeout, counting from now. setRemote() calls it, so an
	 * outgoing call's leg does not time out while the far end is still ringing;
	 * call it earlier to count from an earlier moment. Idempotent.
	 */
	start(): void {
		if (this.#closed || this.#started) {
			return;
		}
		this.#started = true;
		if (this.#rtpTimeoutMs > 0 && Number.isFinite(this.#rtpTimeoutMs)) {
			this.#since = this.#clock.now();
			this.#armTimeout(this.#since + this.#rtpTimeoutMs);
		}
	}

	/**
	 * Called by the MediaClock once per frame: one mix frame (or silence when
	 * the mixer has none, so NAT bindings and the far end's jitter buffer keep
	 * being fed) is encoded and sent. Nothing is sent before the remote is known.
	 */
	sendFrame(): void {
		const codec = this.#codec;
		if (this.#closed || codec === undefined) {
			return;
		}
		const fs = this.frameSamples;
		let src = this.fromMixer.read(this.#frame, MAX_BACKLOG) ? this.#frame : this.#silence;
		const prompts = this.#prompts;
		if (prompts.active) {
			if (src === this.#frame) {
				prompts.mixInto(src, 0, fs);
			} else {
				prompts.readInto(this.#frame, 0, fs);
				src = this.#frame;
			}
		}
		const rs = this.#txResampler;
		if (rs !== undefined) {
			// Silence goes through too, so the filter's history stays continuous.
			rs.process(src, 0, fs, this.#txFrame, 0);
			src = this.#txFrame;
		}
		const pkt = this.#useB ? this.#pktB : this.#pktA;
		const bytes = codec.encode(src, 0, this.#codecFrame, pkt, RTP_HEADER_SIZE);
		if (bytes > 0) {
			this.#useB = !this.#useB;
			writeHeader(pkt, this.#pt, this.#marker, this.#seq, this.#ts, this.#ssrc);
			const size = RTP_HEADER_SIZE + bytes;
			this.#socket.send(pkt, 0, size, this.#sendPort, this.#sendAddress);
			this.#marker = false;
			this.#seq = (this.#seq + 1) & 0xffff;
			this.#packetsOut++;
			this.#bytesOut += size;
		} else {
			// DTX: nothing sent; the next packet starts a talkspurt (RFC 3551 §4.1).
			this.#marker = true;
		}
		this.#ts = (this.#ts + this.#tsStep) >>> 0;
	}

	/**
	 * @internal The socket's 'message' handler; public so tests and benchmarks
	 * can feed a datagram without the network.
	 */
	handlePacket(msg: Buffer, address: string, port: number): void {
		if (this.#closed) {
			return;
		}
		if (isRtcp(msg)) {
			// RTCP (RFC 5761 mux) is not used yet.
			this.#rtcpIn++;
			return;
		}
		const len = msg.length;
		const off = payloadOffset(msg, len);
		const codec = this.#codec;
		if (off < 0 || codec === undefined) {
			this.#packetsDropped++;
			return;
		}
		const pt = msg[1]! & 0x7f;
		const known = pt === this.#pt || pt === this.#tePt;
		if (!this.#latched || port !== this.#sendPort || address !== this.#sendAddress) {
			if (!known || !this.#latch(address, port)) {
				this.#packetsDropped++;
				return;
			}
		} else {
			this.#candCount = 0;
		}
		// Any RTP from the peer proves it alive, e.g. comfort noise (PT 13) we do not decode.
		this.#lastRtpAt = this.#clock.now();
		if (!known) {
			this.#packetsDropped++;
			return;
		}
		const seq = readSeq(msg);
		const ssrc = readSsrc(msg);
		if (ssrc !== this.#rxSsrc) {
			this.#rxSsrc = ssrc;
			this.#dtmf.reset();
		} else {
			const d = seqDiff(seq, this.#rxSeq);
			if (d <= 0 && d > -MAX_MISORDER) {
				this.#packetsDropped++;
				return;
			}
			// A forward gap is loss (a restart jumps further and is not).
			if (d > 1 && d <= MAX_DROPOUT) {
				this.#packetsLost += d - 1;
			}
		}
		this.#rxSeq = seq;
		this.#packetsIn++;
		this.#bytesIn += len;
		const end = payloadEnd(msg, len);
		if (pt === this.#tePt) {
			// Digits go to the call layer only; the mixer hears nothing for these packets.
			const digit = this.#dtmf.push(readTimestamp(msg), msg, off, end - off);
			if (digit !== '') {
				this.safeEmit('dtmf', digit);
			}
			return;
		}
		this.#decode(codec, msg, off, end - off);
	}

	/** Closes the socket, returns the port, stops the timer. Idempotent. */
	close(): void {
		if (this.#closed) {
			return;
		}
		this.#closed = true;
		this.#prompts.close();
		this.#recorder?.close();
		this.#timer?.cancel();
		this.#timer = undefined;
		try {
			this.#socket.close();
		} catch {
			// Already closed underneath us: nothing left to release.
		}
		this.#allocator.release(this.localPort);
		this.safeEmit('close');
	}

	/**
	 * Symmetric RTP (RFC 4961; NAT traversal as in RFC 7362 "latching"): the
	 * first packet latches the send target to its source; after that a new
	 * source takes over only after RELATCH_PACKETS packets in a row. Returns
	 * whether this packet's source is (now) the latched one.
	 */
	#latch(address: string, port: number): boolean {
		if (this.#latched) {
			if (address === this.#candAddress && port === this.#candPort) {
				this.#candCount++;
			} else {
				this.#candAddress = address;
				this.#candPort = port;
				this.#candCount = 1;
			}
			if (this.#candCount < RELATCH_PACKETS) {
				return false;
			}
		}
		this.#latched = true;
		this.#candCount = 0;
		if (address !== this.#sendAddress || port !== this.#sendPort) {
			this.#sendAddress = address;
			this.#sendPort = port;
			this.safeEmit('remotechanged', address, port);
		}
		return true;
	}

	/**
	 * Switches to a new codec instance (control path: allocates). Sizes the
	 * codec-rate buffers and makes the resamplers between the codec's rate and
	 * the mix rate; half a frame of the old codec's audio is not worth keeping.
	 */
	#useCodec(codec: AudioCodec): void {
		const cf = codec.frameSamples(FRAME_MS);
		if (cf <= 0 || cf * this.mixRate !== this.frameSamples * codec.sampleRate) {
			throw new TypeError(`codec ${codec.name} at ${codec.sampleRate} Hz does not frame at ${this.mixRate} Hz`);
		}
		this.#codec = codec;
		this.#codecFrame = cf;
		this.#tsStep = (codec.clockRate * FRAME_MS) / 1000;
		this.#staged = 0;
		const need = roundUp(cf + codec.decodedSamples(MAX_PACKET));
		if (this.#staging.length < need) {
			this.#staging = new Int16Array(need);
		}
		this.#stagingFrame = this.#staging.subarray(0, cf);
		if (codec.sampleRate === this.mixRate) {
			this.#rxResampler = undefined;
			this.#txResampler = undefined;
			this.#txFrame = this.#frame;
		} else {
			this.#rxResampler = new Resampler(codec.sampleRate, this.mixRate);
			this.#txResampler = new Resampler(this.mixRate, codec.sampleRate);
			this.#txFrame = new Int16Array(cf);
		}
	}

	/**
	 * Decodes into the staging buffer (codec rate) and moves out every whole
	 * 20 ms frame, resampled to the mix rate (re-framing 10/30 ms ptimes).
	 */
	#decode(codec: AudioCodec, msg: Buffer, off: number, len: number): void {
		const need = this.#staged + codec.decodedSamples(len);
		if (need > this.#staging.length) {
			const grown = new Int16Array(roundUp(need));
			grown.set(this.#staging.subarray(0, this.#staged));
			this.#staging = grown;
			this.#stagingFrame = grown.subarray(0, this.#codecFrame);
		}
		const staging = this.#staging;
		let staged = this.#staged + codec.decode(msg, off, len, staging, this.#staged);
		const cf = this.#codecFrame;
		const rs = this.#rxResampler;
		while (staged >= cf) {
			if (rs === undefined) {
				this.#deliver(this.#stagingFrame);
			} else {
				rs.process(staging, 0, cf, this.#rxFrame, 0);
				this.#deliver(this.#rxFrame);
			}
			staged -= cf;
			if (staged > 0) {
				staging.copyWithin(0, cf, cf + staged);
			}
		}
		this.#staged = staged;
	}

	/** One 20 ms frame of what the caller says, at the mix rate: to the recording and the mixer. */
	#deliver(frame: Int16Array): void {
		this.#recorder?.push(frame, 0, this.frameSamples);
		this.toMixer.write(frame);
	}

	#armTimeout(deadline: number): void {
		this.#timer = this.#clock.setTimeout(this.#onTimeout, Math.max(0, deadline - this.#clock.now()));
	}

	// One timer per timeout period, re-armed from the last packet, instead of a
	// timer reset per packet.
	readonly #onTimeout = (): void => {
		this.#timer = undefined;
		if (this.#closed) {
			return;
		}
		const last = this.#lastRtpAt !== undefined && this.#lastRtpAt > this.#since ? this.#lastRtpAt : this.#since;
		const deadline = last + this.#rtpTimeoutMs;
		if (this.#clock.now() >= deadline) {
			// Not re-armed: the timeout is reported once.
			this.safeEmit('rtptimeout');
			return;
		}
		this.#armTimeout(deadline);
	};
}
