/**
 * Marker-burst timing for end-to-end delay.
 *
 * A talker replaces its audio with a short loud tone (the marker, e.g. 2 kHz
 * for 60 ms) starting exactly at the first sample of a packet, and notes
 * when it sent that packet. A listener feeds what it receives, packet by
 * packet, to a BurstDetector, which finds the sample where the marker starts
 * in the mix and turns it into a time: the arrival of the packet holding that
 * sample plus the sample's offset in it. delay = that time − the send time.
 *
 * Detection is a quadrature demodulator at the marker frequency followed by a
 * moving sum over W samples (5 ms by default): a tone of amplitude A that
 * started k samples ago gives an envelope of about A·k/W, rising linearly to A.
 * Other talkers' tones at multiples of 1000/W·1000 Hz (200 Hz for 5 ms) fall on
 * the window's nulls and vanish. Once the envelope passes `threshold`, the
 * detector waits one more window to see the plateau A, then takes the first
 * sample where the envelope reached A/2: the onset is W/2 − 1 samples before
 * it. The result is accurate to about a sample, independent of the mixer's
 * gain and of where the server's frame boundaries fall.
 */

export interface BurstDetectorOptions {
	sampleRate: number;
	/** Marker frequency, Hz. */
	freq: number;
	/** Envelope (sample units, peak amplitude) that starts a detection. */
	threshold: number;
	/** Moving-window length in samples. Default: 5 ms. */
	windowSamples?: number;
	/** After an onset, ignore the stream for this long (ms). Default 200. */
	refractoryMs?: number;
}

const enum State {
	Idle,
	Rising,
	InBurst,
}

/** Packets whose arrival times are kept for mapping sample positions to times. */
const PACKET_HISTORY = 64;

export class BurstDetector {
	readonly sampleRate: number;
	readonly freq: number;
	readonly threshold: number;
	readonly window: number;
	readonly refractorySamples: number;
	/** Detected onset times (ms, on the clock of the arrival times given to push()). */
	readonly onsets: number[] = [];

	readonly #cos: Float64Array;
	readonly #sin: Float64Array;
	readonly #period: number;
	readonly #ci: Float64Array;
	readonly #cq: Float64Array;
	/** Envelope history, indexed by sample position & #histMask. */
	readonly #env: Float64Array;
	readonly #histMask: number;
	readonly #pktStart = new Float64Array(PACKET_HISTORY);
	readonly #pktArrival = new Float64Array(PACKET_HISTORY);
	#pkts = 0;
	#pos = 0;
	#i = 0;
	#q = 0;
	#state = State.Idle;
	#cross = 0;
	#peak = 0;
	#quietUntil = 0;

	constructor(opts: BurstDetectorOptions) {
		this.sampleRate = opts.sampleRate;
		this.freq = opts.freq;
		this.threshold = opts.threshold;
		this.window = opts.windowSamples ?? Math.round(opts.sampleRate / 200);
		this.refractorySamples = Math.round(((opts.refractoryMs ?? 200) * opts.sampleRate) / 1000);
		if (!(this.window >= 4) || !(opts.freq > 0 && opts.freq < opts.sampleRate / 2)) {
			throw new RangeError('bad burst detector parameters');
		}
		// The demodulator's phase repeats every sampleRate / gcd(sampleRate, freq) samples.
		const g = gcd(opts.sampleRate, Math.round(opts.freq));
		this.#period = Math.min(opts.sampleRate / g, opts.sampleRate);
		this.#cos = new Float64Array(this.#period);
		this.#sin = new Float64Array(this.#period);
		for (let n = 0; n < this.#period; n++) {
			const ph = (2 * Math.PI * opts.freq * n) / opts.sampleRate;
			this.#cos[n] = Math.cos(ph);
			this.#sin[n] = Math.sin(ph);
		}
		this.#ci = new Float64Array(this.window);
		this.#cq = new Float64Array(this.window);
		let hist = 1;
		while (hist < 4 * this.window) {
			hist <<= 1;
		}
		this.#env = new Float64Array(hist);
		this.#histMask = hist - 1;
	}

	/** Samples fed so far. */
	get position(): number {
		return this.#pos;
	}

	/** Feeds samples [off, off + n) of one packet that arrived at `arrivalMs`. */
	push(samples: Int16Array, off: number, n: number, arrivalMs: number): void {
		const slot = this.#pkts % PACKET_HISTORY;
		this.#pktStart[slot] = this.#pos;
		this.#pktArrival[slot] = arrivalMs;
		this.#pkts++;
		const w = this.window;
		const scale = 2 / w;
		for (let j = 0; j < n; j++) {
			const x = samples[off + j]!;
			const pos = this.#pos;
			const ph = pos % this.#period;
			const wi = pos % w;
			const vi = x * this.#cos[ph]!;
			const vq = x * this.#sin[ph]!;
			this.#i += vi - this.#ci[wi]!;
			this.#q += vq - this.#cq[wi]!;
			this.#ci[wi] = vi;
			this.#cq[wi] = vq;
			const env = scale * Math.sqrt(this.#i * this.#i + this.#q * this.#q);
			this.#env[pos & this.#histMask] = env;
			this.#pos = pos + 1;
			this.#step(pos, env);
		}
	}

	#step(pos: number, env: number): void {
		switch (this.#state) {
			case State.Idle: {
				if (pos >= this.#quietUntil && env >= this.threshold) {
					this.#state = State.Rising;
					this.#cross = pos;
					this.#peak = env;
				}
				break;
			}
			case State.Rising: {
				if (env > this.#peak) {
					this.#peak = env;
				}
				if (pos >= this.#cross + this.window) {
					this.#emit();
					this.#state = State.InBurst;
				}
				break;
			}
			case State.InBurst: {
				if (env < this.#peak / 4 && env < this.threshold) {
					this.#state = State.Idle;
				}
				break;
			}
		}
	}

	#emit(): void {
		const half = this.#peak / 2;
		const w = this.window;
		let h = this.#cross;
		// The envelope rose through half the plateau somewhere in the window before the crossing.
		const from = Math.max(0, this.#cross - w, this.#pos - this.#env.length + 1);
		for (let p = from; p <= this.#cross + w && p < this.#pos; p++) {
			if (this.#env[p & this.#histMask]! >= half) {
				h = p;
				break;
			}
		}
		const onset = Math.max(0, h - w / 2 + 1);
		this.onsets.push(this.#timeOf(onset));
		this.#quietUntil = onset + this.refractorySamples;
	}

	/** Arrival of the packet holding sample `pos`, plus the sample's offset in it. */
	#timeOf(pos: number): number {
		const count = Math.min(this.#pkts, PACKET_HISTORY);
		for (let k = 1; k <= count; k++) {
			const slot = (this.#pkts - k) % PACKET_HISTORY;
			const start = this.#pktStart[slot]!;
			if (start <= pos) {
				return this.#pktArrival[slot]! + ((pos - start) * 1000) / this.sampleRate;
			}
		}
		const oldest = (this.#pkts - count) % PACKET_HISTORY;
		return this.#pktArrival[oldest]! + ((pos - this.#pktStart[oldest]!) * 1000) / this.sampleRate;
	}
}

function gcd(a: number, b: number): number {
	while (b !== 0) {
		const t = a % b;
		a = b;
		b = t;
	}
	return a;
}

export interface MarkerSend {
	/** Send time of the packet whose first sample starts the marker (ms). */
	at: number;
	/** Who sent it (participant id). */
	from: string;
}

export interface MarkerMatch {
	/** One per marker from someone else that was heard: onset − send, ms. */
	delays: number[];
	/** Markers from others that were not heard within maxDelayMs. */
	missed: number;
	/** The listener's own markers that came back to it (N-1 broken). */
	selfHeard: number;
	/** Onsets that match no marker. */
	spurious: number;
}

/**
 * Pairs a listener's onsets with the markers sent in its room. A marker from
 * someone else matches the first unused onset in [at − earlyMs, at +
 * maxDelayMs]; the listener's own markers are matched the same way so an echo
 * of them is counted (selfHeard) instead of being taken for a delay.
 * Markers must be spaced further apart than maxDelayMs for the pairing to be
 * unambiguous.
 */
export function matchMarkers(
	sends: readonly MarkerSend[],
	onsets: readonly number[],
	self: string,
	maxDelayMs: number,
	earlyMs = 2,
): MarkerMatch {
	const sortedSends = [...sends].sort((a, b) => a.at - b.at);
	const sortedOnsets = [...onsets].sort((a, b) => a - b);
	const used = new Uint8Array(sortedOnsets.length);
	const delays: number[] = [];
	let missed = 0;
	let selfHeard = 0;
	let j0 = 0;
	for (const s of sortedSends) {
		while (j0 < sortedOnsets.length && sortedOnsets[j0]! < s.at - earlyMs) {
			j0++;
		}
		let hit = -1;
		for (let j = j0; j < sortedOnsets.length && sortedOnsets[j]! <= s.at + maxDelayMs; j++) {
			if (used[j] === 0) {
				hit = j;
				break;
			}
		}
		if (hit >= 0) {
			used[hit] = 1;
		}
		if (s.from === self) {
			if (hit >= 0) {
				selfHeard++;
			}
		} else if (hit >= 0) {
			delays.push(sortedOnsets[hit]! - s.at);
		} else {
			missed++;
		}
	}
	let spurious = 0;
	for (let j = 0; j < used.length; j++) {
		if (used[j] === 0) {
			spurious++;
		}
	}
	return { delays, missed, selfHeard, spurious };
}
