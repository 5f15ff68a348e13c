import { randomBytes } from 'node:crypto';
import type dgram from 'node:dgram';
import { InvalidStateError } from '../common/errors.js';
import { TypedEmitter } from '../common/events.js';
import { logger } from '../common/logger.js';
import { realClock, type Clock, type TimerHandle } from '../common/time.js';
import { PcmRing } from '../mixer/ring-buffer.js';
import type { AudioCodec } from './codecs/codec.js';
import { PCMA, PCMU } from './codecs/g711.js';
import { DtmfReceiver } from './codecs/telephone-event.js';
import type { RtpPortAllocator } from './ports.js';
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
	/** Samples per mixer frame at the codec clock: 160 for 20 ms at 8 kHz. */
	frameSamples: number;
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
	codec: 'PCMU' | 'PCMA';
	payloadType: number;
	telephoneEventPt?: number;
}

/**
 * Packets in a row from a new source before symmetric RTP re-latches to it, so
 * a stray or spoofed packet cannot steal the stream while the peer is talking.
 */
const RELATCH_PACKETS = 5;
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

/**
 * One call's RTP endpoint: its UDP socket, codec state and the two PCM rings
 * that connect it to a mixer room. The receive path decodes RTP into whole
 * frames in `toMixer`; a shared MediaClock calls sendFrame() every frame to
 * encode one frame from `fromMixer` (or silence) and send it, so RTP flows
 * continuously. Both paths parse and write headers in place in preallocated
 * buffers and allocate nothing per packet.
 */
export class MediaLeg extends TypedEmitter<MediaLegEvents> {
	readonly localPort: number;
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
	#pt = -1;
	#tePt = -1;
	#sdpAddress = '';
	#sdpPort = 0;
	#sendAddress = '';
	#sendPort = 0;
	#latched = false;
	#candAddress = '';
	#candPort = 0;
	#candCount = 0;

	// Receive path.
	#rxSsrc = -1;
	#rxSeq = 0;
	#staging: Int16Array;
	#stagingFrame: Int16Array;
	#staged = 0;
	readonly #dtmf = new DtmfReceiver();

	// Send path. Two packet buffers alternate because a datagram the kernel
	// could not take at once (EAGAIN) stays queued referencing its buffer.
	readonly #pktA: Buffer;
	readonly #pktB: Buffer;
	#useB = false;
	readonly #frame: Int16Array;
	readonly #silence: Int16Array;
	#seq: number;
	#ts: number;
	readonly #ssrc: number;
	#marker = true;

	// RTP timeout.
	#timer: TimerHandle | undefined;
	#since = 0;

	#packetsIn = 0;
	#packetsOut = 0;
	#bytesIn = 0;
	#bytesOut = 0;
	#packetsDropped = 0;
	#rtcpIn = 0;
	#lastRtpAt: number | undefined;

	/** Binds a port from the allocator and returns a leg that is not started yet. */
	static async create(opts: MediaLegOptions): Promise<MediaLeg> {
		const { frameSamples, rtpTimeoutMs } = opts;
		if (!Number.isInteger(frameSamples) || frameSamples <= 0 || frameSamples * 2 > MAX_PACKET) {
			throw new TypeError(`frameSamples ${frameSamples} is out of range`);
		}
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
		const fs = opts.frameSamples;
		this.frameSamples = fs;
		const slots = opts.ringSlots ?? DEFAULT_RING_SLOTS;
		this.toMixer = PcmRing.create(slots, fs);
		this.fromMixer = PcmRing.create(slots, fs);
		this.#staging = new Int16Array(roundUp(fs * 4));
		this.#stagingFrame = this.#staging.subarray(0, fs);
		this.#pktA = Buffer.alloc(RTP_HEADER_SIZE + MAX_PACKET);
		this.#pktB = Buffer.alloc(RTP_HEADER_SIZE + MAX_PACKET);
		this.#frame = new Int16Array(fs);
		this.#silence = new Int16Array(fs);
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

	/**
	 * Sets (or, on a re-INVITE, updates) the far end from its SDP. A new address
	 * or port drops the symmetric-RTP latch; the same one keeps it, so a peer
	 * behind NAT stays reachable across re-INVITEs. The first call also start()s
	 * the RTP timeout: from here on RTP is expected.
	 */
	setRemote(params: RemoteMediaParams): void {
		if (this.#closed) {
			throw new InvalidStateError('media leg closed');
		}
		const { address, port, codec, payloadType, telephoneEventPt } = params;
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
		const next = codec === 'PCMU' ? PCMU : codec === 'PCMA' ? PCMA : undefined;
		if (next === undefined) {
			throw new TypeError(`codec ${String(codec)} is not supported`);
		}
		if (next !== this.#codec) {
			// Half a frame of the old codec's audio is not worth keeping.
			this.#staged = 0;
		}
		this.#codec = next;
		this.#pt = payloadType;
		this.#tePt = telephoneEventPt ?? -1;
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
		const src = this.fromMixer.read(this.#frame, MAX_BACKLOG) ? this.#frame : this.#silence;
		const pkt = this.#useB ? this.#pktB : this.#pktA;
		this.#useB = !this.#useB;
		writeHeader(pkt, this.#pt, this.#marker, this.#seq, this.#ts, this.#ssrc);
		const size = RTP_HEADER_SIZE + codec.encode(src, 0, fs, pkt, RTP_HEADER_SIZE);
		this.#socket.send(pkt, 0, size, this.#sendPort, this.#sendAddress);
		this.#marker = false;
		this.#seq = (this.#seq + 1) & 0xffff;
		this.#ts = (this.#ts + fs) >>> 0;
		this.#packetsOut++;
		this.#bytesOut += size;
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

	/** Decodes into the staging buffer and moves out every whole frame (re-framing 10/30 ms ptimes). */
	#decode(codec: AudioCodec, msg: Buffer, off: number, len: number): void {
		const need = this.#staged + codec.decodedSamples(len);
		if (need > this.#staging.length) {
			const grown = new Int16Array(roundUp(need));
			grown.set(this.#staging.subarray(0, this.#staged));
			this.#staging = grown;
			this.#stagingFrame = grown.subarray(0, this.frameSamples);
		}
		const staging = this.#staging;
		let staged = this.#staged + codec.decode(msg, off, len, staging, this.#staged);
		const fs = this.frameSamples;
		while (staged >= fs) {
			this.toMixer.write(this.#stagingFrame);
			staged -= fs;
			if (staged > 0) {
				staging.copyWithin(0, fs, fs + staged);
			}
		}
		this.#staged = staged;
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
