import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { test } from 'node:test';

import { createServer, type Server } from '../../../src/index.js';
import { G722Decoder, G722Encoder } from '../../../src/media/codecs/g722.js';
import { g711Decode, g711Encode } from '../../helpers/g711.js';
import { ToneGenerator, toneRatio } from '../../helpers/goertzel.js';
import { until } from '../../helpers/wait.js';
import { TestUA, buildSip, newBranch, newCallId, newTag, parseSdpAudio, uriOf, type SipMessage } from '../../helpers/test-ua.js';

/**
 * Callers with different codecs in one room, through the real server: SIP
 * over UDP with our own SDP (TestUA only speaks G.711, so it is used here for
 * its SIP socket and parser only), RTP from a small sender/receiver below that
 * encodes with the G.711 reference in test/helpers, our G.722 and the
 * @discordjs/opus binding directly. Each caller must hear the other's tone.
 */

const { OpusEncoder } = createRequire(import.meta.url)('@discordjs/opus') as {
	OpusEncoder: new (rate: number, channels: number) => { encode(b: Buffer): Buffer; decode(b: Buffer): Buffer };
};

interface CodecSide {
	/** m= line payload types and attribute lines of our offer. */
	pts: number[];
	attrs: string[];
	/** PT we send and expect back. */
	pt: number;
	/** Audio rate and RTP timestamp step per 20 ms. */
	rate: number;
	tsStep: number;
	encode(pcm: Int16Array): Buffer;
	decode(payload: Buffer): Int16Array;
}

function pcmu(): CodecSide {
	return {
		pts: [0, 101],
		attrs: ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16'],
		pt: 0,
		rate: 8000,
		tsStep: 160,
		encode: (pcm) => Buffer.from(g711Encode('PCMU', pcm)),
		decode: (p) => g711Decode('PCMU', p),
	};
}

function pcma(): CodecSide {
	return { ...pcmu(), pts: [8], attrs: ['a=rtpmap:8 PCMA/8000'], pt: 8, encode: (pcm) => Buffer.from(g711Encode('PCMA', pcm)), decode: (p) => g711Decode('PCMA', p) };
}

function g722(): CodecSide {
	const enc = new G722Encoder();
	const dec = new G722Decoder();
	return {
		pts: [9, 101],
		attrs: ['a=rtpmap:9 G722/8000', 'a=rtpmap:101 telephone-event/8000'],
		pt: 9,
		rate: 16000,
		tsStep: 160,
		encode: (pcm) => {
			const b = Buffer.alloc(pcm.length >> 1);
			enc.encode(pcm, 0, pcm.length, b, 0);
			return b;
		},
		decode: (p) => {
			const out = new Int16Array(2 * p.length);
			dec.decode(p, 0, p.length, out, 0);
			return out;
		},
	};
}

function opus(): CodecSide {
	const o = new OpusEncoder(48000, 1);
	return {
		// Dynamic PT 107 on purpose: the server must echo ours, not use its own 111.
		pts: [107, 100],
		attrs: ['a=rtpmap:107 opus/48000/2', 'a=fmtp:107 useinbandfec=1;maxplaybackrate=48000', 'a=rtpmap:100 telephone-event/48000'],
		pt: 107,
		rate: 48000,
		tsStep: 960,
		encode: (pcm) => o.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)),
		decode: (p) => {
			const b = o.decode(p);
			return new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
		},
	};
}

/** One caller: SIP through a TestUA's socket, RTP of its own. */
class Caller {
	readonly ua: TestUA;
	readonly codec: CodecSide;
	readonly rtp: dgram.Socket;
	readonly received: Buffer[] = [];
	answer: SipMessage | undefined;
	#callId = newCallId();
	#fromTag = newTag();
	#cseq = 1;
	#to = '';
	#target = '';
	#remote: { host: string; port: number } | undefined;
	#timer: NodeJS.Timeout | undefined;
	#gen: ToneGenerator;
	#seq = 1;
	#ts = 12345;
	#sent = 0;

	private constructor(ua: TestUA, rtp: dgram.Socket, codec: CodecSide, tone: number) {
		this.ua = ua;
		this.rtp = rtp;
		this.codec = codec;
		this.#gen = new ToneGenerator(tone, codec.rate, 8000);
		rtp.on('message', (msg) => {
			if ((msg[1]! & 0x7f) === codec.pt) {
				this.received.push(msg);
			}
		});
	}

	static async create(user: string, codec: CodecSide, tone: number): Promise<Caller> {
		const ua = await TestUA.create({ user });
		const rtp = dgram.createSocket('udp4');
		rtp.bind(0, '127.0.0.1');
		await once(rtp, 'listening');
		return new Caller(ua, rtp, codec, tone);
	}

	async call(sipPort: number, room: string): Promise<void> {
		const ua = this.ua;
		const uri = `sip:${room}@127.0.0.1:${sipPort}`;
		const sdp = [
			'v=0',
			`o=- 1 1 IN IP4 127.0.0.1`,
			's=codecs-test',
			'c=IN IP4 127.0.0.1',
			't=0 0',
			`m=audio ${this.rtp.address().port} RTP/AVP ${this.codec.pts.join(' ')}`,
			...this.codec.attrs,
			'a=ptime:20',
			'a=sendrecv',
			'',
		].join('\r\n');
		const invite = buildSip(
			`INVITE ${uri} SIP/2.0`,
			[
				['Via', ua.via(newBranch())],
				['Max-Forwards', 70],
				['From', `<sip:${ua.user}@127.0.0.1>;tag=${this.#fromTag}`],
				['To', `<${uri}>`],
				['Call-ID', this.#callId],
				['CSeq', `${this.#cseq} INVITE`],
				['Contact', `<${ua.contactUri}>`],
				['Content-Type', 'application/sdp'],
			],
			sdp,
		);
		ua.sendRaw(invite, '127.0.0.1', sipPort);
		const res = await ua.waitFor((m) => !m.isRequest && m.callId === this.#callId && m.status >= 200, 10_000, 'final response to INVITE');
		assert.equal(res.status, 200, `INVITE answered ${res.summary}`);
		this.answer = res;
		this.#to = res.header('to') ?? '';
		this.#target = uriOf(res.header('contact') ?? uri);
		const ack = buildSip(`ACK ${this.#target} SIP/2.0`, [
			['Via', ua.via(newBranch())],
			['Max-Forwards', 70],
			['From', `<sip:${ua.user}@127.0.0.1>;tag=${this.#fromTag}`],
			['To', this.#to],
			['Call-ID', this.#callId],
			['CSeq', `${this.#cseq} ACK`],
		]);
		ua.sendRaw(ack, '127.0.0.1', sipPort);
		const audio = parseSdpAudio(res.body);
		assert.ok(audio, 'the 200 has an SDP answer');
		this.#remote = { host: audio.address, port: audio.port };
	}

	/** Sends a 20 ms tone packet on a drift-free schedule until stop(). */
	startRtp(): void {
		const t0 = Date.now();
		const tick = (): void => {
			const due = Math.floor((Date.now() - t0) / 20) + 1;
			// After a stall send at most a few late frames.
			this.#sent = Math.max(this.#sent, due - 3);
			while (this.#sent < due) {
				this.#sendFrame();
				this.#sent++;
			}
			this.#timer = setTimeout(tick, t0 + this.#sent * 20 - Date.now());
		};
		tick();
	}

	#sendFrame(): void {
		const payload = this.codec.encode(this.#gen.next());
		const b = Buffer.alloc(12 + payload.length);
		b[0] = 0x80;
		b[1] = this.codec.pt | (this.#seq === 1 ? 0x80 : 0);
		b.writeUInt16BE(this.#seq & 0xffff, 2);
		b.writeUInt32BE(this.#ts >>> 0, 4);
		b.writeUInt32BE(0xc0dec, 8);
		payload.copy(b, 12);
		this.#seq++;
		this.#ts += this.codec.tsStep;
		this.rtp.send(b, this.#remote!.port, this.#remote!.host);
	}

	/** What arrived (our PT only), decoded in arrival order, from packet `from` on. */
	heard(from = 0): Int16Array {
		const parts = this.received.slice(from).map((p) => this.codec.decode(p.subarray(12)));
		const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
		let o = 0;
		for (const p of parts) {
			out.set(p, o);
			o += p.length;
		}
		return out;
	}

	async bye(sipPort: number): Promise<void> {
		clearTimeout(this.#timer);
		this.#cseq++;
		const bye = buildSip(`BYE ${this.#target} SIP/2.0`, [
			['Via', this.ua.via(newBranch())],
			['Max-Forwards', 70],
			['From', `<sip:${this.ua.user}@127.0.0.1>;tag=${this.#fromTag}`],
			['To', this.#to],
			['Call-ID', this.#callId],
			['CSeq', `${this.#cseq} BYE`],
		]);
		this.ua.sendRaw(bye, '127.0.0.1', sipPort);
		const res = await this.ua.waitFor((m) => !m.isRequest && m.callId === this.#callId && m.cseq?.method === 'BYE' && m.status >= 200, 10_000, 'BYE response');
		assert.equal(res.status, 200);
	}

	close(): void {
		clearTimeout(this.#timer);
		this.ua.close();
		this.rtp.close();
	}
}


async function twoCallers(
	sampleRate: number,
	a: { codec: CodecSide; tone: number; rtpmap: RegExp },
	b: { codec: CodecSide; tone: number; rtpmap: RegExp },
): Promise<void> {
	const server: Server = await createServer({ sip: { host: '127.0.0.1', port: 0 }, rooms: [{ name: 'w', number: '1000', sampleRate }] });
	await server.start();
	const ca = await Caller.create('a', a.codec, a.tone);
	const cb = await Caller.create('b', b.codec, b.tone);
	try {
		await ca.call(server.sipPort, '1000');
		await cb.call(server.sipPort, '1000');
		assert.match(ca.answer!.body, a.rtpmap);
		assert.match(cb.answer!.body, b.rtpmap);
		ca.startRtp();
		cb.startRtp();
		await until(() => server.rooms.byNumber('1000')!.size === 2, 10_000, 'two participants');
		// Let the mix settle, then analyse 1.5 s of what follows.
		await new Promise((r) => setTimeout(r, 400));
		const fromA = ca.received.length;
		const fromB = cb.received.length;
		await until(() => ca.received.length >= fromA + 75 && cb.received.length >= fromB + 75, 20_000, '1.5 s of RTP to each caller');
		for (const [c, other, self, from] of [
			[ca, b.tone, a.tone, fromA],
			[cb, a.tone, b.tone, fromB],
		] as const) {
			const heard = c.heard(from);
			const hears = toneRatio(heard, c.codec.rate, other);
			const echo = toneRatio(heard, c.codec.rate, self);
			assert.ok(hears > 0.8, `${c.ua.user} (${c.codec.rate} Hz) hears ${other} Hz: ratio ${hears.toFixed(3)}`);
			assert.ok(echo < 0.02, `${c.ua.user} does not hear itself (${self} Hz): ratio ${echo.toFixed(3)}`);
			// The server's RTP clock is the codec's, not the audio rate.
			const p = c.received;
			const last = p[p.length - 1]!;
			const prev = p[p.length - 2]!;
			const dSeq = (last.readUInt16BE(2) - prev.readUInt16BE(2)) & 0xffff;
			assert.equal((last.readUInt32BE(4) - prev.readUInt32BE(4)) >>> 0, dSeq * c.codec.tsStep);
		}
		await ca.bye(server.sipPort);
		await cb.bye(server.sipPort);
		await until(() => server.stats().calls === 0, 10_000, 'calls to end');
		assert.equal(server.stats().rtpPortsInUse, 0);
	} finally {
		ca.close();
		cb.close();
		await server.stop();
	}
}

test('16 kHz room: a G.722 caller and a PCMU caller hear each other', { timeout: 60_000 }, async () => {
	await twoCallers(
		16000,
		{ codec: g722(), tone: 1100, rtpmap: /m=audio \d+ RTP\/AVP 9 101\r\na=rtpmap:9 G722\/8000/ },
		{ codec: pcmu(), tone: 450, rtpmap: /m=audio \d+ RTP\/AVP 0 101\r\na=rtpmap:0 PCMU\/8000/ },
	);
});

test('48 kHz room: an Opus caller and a PCMA caller hear each other', { timeout: 60_000 }, async () => {
	await twoCallers(
		48000,
		{ codec: opus(), tone: 900, rtpmap: /m=audio \d+ RTP\/AVP 107 100\r\na=rtpmap:107 opus\/48000\/2\r\na=rtpmap:100 telephone-event\/48000/ },
		{ codec: pcma(), tone: 1500, rtpmap: /m=audio \d+ RTP\/AVP 8\r\na=rtpmap:8 PCMA\/8000/ },
	);
});

test('8 kHz room: an Opus caller and a G.722 caller hear each other', { timeout: 60_000 }, async () => {
	await twoCallers(
		8000,
		{ codec: opus(), tone: 700, rtpmap: /a=rtpmap:107 opus\/48000\/2/ },
		{ codec: g722(), tone: 1300, rtpmap: /a=rtpmap:9 G722\/8000/ },
	);
});
