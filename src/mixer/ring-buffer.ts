/**
 * Single-producer single-consumer ring of fixed-size PCM frames over a
 * SharedArrayBuffer, so a media leg (main thread) and the mixer (worker) can
 * hand 20 ms frames to each other without messages or copies beyond one memcpy.
 *
 *   header (Int32 × 8)            data (Int16 × slots × frameSamples)
 *   ┌───┬───┬────┬────┬─────┬───┐ ┌────────┬────────┬─────┬────────┐
 *   │ w │ r │ovf │skip│slots│fs │ │ slot 0 │ slot 1 │ ... │ slot n │
 *   └───┴───┴────┴────┴─────┴───┘ └────────┴────────┴─────┴────────┘
 *
 *   w, r: free-running frame counters (wrap at 2^32, compared with `| 0`).
 *   slot of counter c = c & kMask (slots is a power of two).
 *   empty  ⇔ w == r            full ⇔ w - r == slots
 *   Only the producer stores w; only the consumer stores r.
 *
 * Bounded latency: a full ring makes write() drop the new frame (counted in
 * ovf), and read() with a backlog limit skips the oldest frames (counted in
 * skip) so a late reader catches up instead of growing delay.
 */
const W = 0;
const R = 1;
const OVF = 2;
const SKIP = 3;
const SLOTS = 4;
const FS = 5;
const HEADER_INTS = 8;
const HEADER_BYTES = HEADER_INTS * 4;
const MAX_SLOTS = 1 << 30;

export class PcmRing {
	readonly sab: SharedArrayBuffer;
	readonly slots: number;
	readonly frameSamples: number;
	readonly #hdr: Int32Array;
	readonly #data: Int16Array;
	readonly #mask: number;
	/** One view per slot, made once: read() and write() then copy without allocating. */
	readonly #slotViews: Int16Array[];

	/** Allocates a new ring. `slots` is rounded up to a power of two. */
	static create(slots: number, frameSamples: number): PcmRing {
		if (!Number.isInteger(frameSamples) || frameSamples <= 0) {
			throw new TypeError('frameSamples must be a positive integer');
		}
		// Bounded so the doubling below cannot overflow into an endless loop.
		if (!(slots <= MAX_SLOTS)) {
			throw new TypeError(`slots must be at most ${MAX_SLOTS}`);
		}
		let n = 1;
		while (n < slots) {
			n <<= 1;
		}
		const sab = new SharedArrayBuffer(HEADER_BYTES + n * frameSamples * 2);
		const hdr = new Int32Array(sab, 0, HEADER_INTS);
		hdr[SLOTS] = n;
		hdr[FS] = frameSamples;
		return new PcmRing(sab);
	}

	/** Wraps an existing ring (e.g. received in a worker). */
	constructor(sab: SharedArrayBuffer) {
		this.sab = sab;
		this.#hdr = new Int32Array(sab, 0, HEADER_INTS);
		this.slots = this.#hdr[SLOTS]!;
		this.frameSamples = this.#hdr[FS]!;
		if (this.slots <= 0 || (this.slots & (this.slots - 1)) !== 0 || this.frameSamples <= 0) {
			throw new TypeError('not a PcmRing buffer');
		}
		this.#mask = this.slots - 1;
		this.#data = new Int16Array(sab, HEADER_BYTES, this.slots * this.frameSamples);
		this.#slotViews = [];
		for (let i = 0; i < this.slots; i++) {
			this.#slotViews.push(this.#data.subarray(i * this.frameSamples, (i + 1) * this.frameSamples));
		}
	}

	/** Frames ready to read. */
	available(): number {
		return (Atomics.load(this.#hdr, W) - Atomics.load(this.#hdr, R)) | 0;
	}

	/** Producer side. Returns false (and counts an overflow) when full. */
	write(frame: Int16Array): boolean {
		const w = Atomics.load(this.#hdr, W);
		const r = Atomics.load(this.#hdr, R);
		if (((w - r) | 0) >= this.slots) {
			Atomics.add(this.#hdr, OVF, 1);
			return false;
		}
		const fs = this.frameSamples;
		const slot = this.#slotViews[w & this.#mask]!;
		if (frame.length === fs) {
			slot.set(frame);
		} else if (frame.length > fs) {
			slot.set(frame.subarray(0, fs));
		} else {
			slot.set(frame);
			slot.fill(0, frame.length);
		}
		// The store publishes the frame: Atomics give release/acquire ordering.
		Atomics.store(this.#hdr, W, (w + 1) | 0);
		return true;
	}

	/**
	 * Consumer side: copies the oldest frame into `out`. With `maxBacklog`, older
	 * frames beyond that many are skipped first. Returns false when empty.
	 */
	read(out: Int16Array, maxBacklog = this.slots): boolean {
		// A limit below 1 would skip past the write index and read an unwritten slot.
		if (maxBacklog < 1) {
			maxBacklog = 1;
		}
		const w = Atomics.load(this.#hdr, W);
		let r = Atomics.load(this.#hdr, R);
		let avail = (w - r) | 0;
		if (avail <= 0) {
			return false;
		}
		if (avail > maxBacklog) {
			const skip = avail - maxBacklog;
			r = (r + skip) | 0;
			avail = maxBacklog;
			Atomics.add(this.#hdr, SKIP, skip);
		}
		out.set(this.#slotViews[r & this.#mask]!);
		Atomics.store(this.#hdr, R, (r + 1) | 0);
		return true;
	}

	/** Consumer side: drops everything queued (e.g. after a leg moves rooms). */
	clear(): void {
		Atomics.store(this.#hdr, R, Atomics.load(this.#hdr, W));
	}

	get overflows(): number {
		return Atomics.load(this.#hdr, OVF);
	}

	get skipped(): number {
		return Atomics.load(this.#hdr, SKIP);
	}
}
