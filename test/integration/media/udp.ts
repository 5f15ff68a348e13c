import dgram from 'node:dgram';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `cond` until true; fails after `ms` with `what` (generous: the machine is shared). */
export async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
	const end = Date.now() + ms;
	while (!cond()) {
		if (Date.now() > end) {
			throw new Error(`timed out waiting for ${what}`);
		}
		await sleep(2);
	}
}

async function canBind(port: number): Promise<dgram.Socket | undefined> {
	const s = dgram.createSocket('udp4');
	try {
		await new Promise<void>((resolve, reject) => {
			s.once('error', reject);
			s.bind({ port, address: '127.0.0.1', exclusive: true }, () => resolve());
		});
		return s;
	} catch {
		s.close();
		return undefined;
	}
}

/**
 * An even base port such that [base, base + count) is currently free on
 * 127.0.0.1, for allocator ranges. Random, so parallel test files rarely meet.
 */
export async function freeRange(count: number): Promise<number> {
	for (let attempt = 0; attempt < 50; attempt++) {
		const base = 20000 + 2 * Math.floor(Math.random() * 15000);
		const held: dgram.Socket[] = [];
		let ok = true;
		for (let p = base; p < base + count; p++) {
			const s = await canBind(p);
			if (!s) {
				ok = false;
				break;
			}
			held.push(s);
		}
		await Promise.all(held.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
		if (ok) {
			return base;
		}
	}
	throw new Error('no free port range found');
}

/** A UDP socket on 127.0.0.1 (port 0) that records what it receives. */
export class Peer {
	readonly socket = dgram.createSocket('udp4');
	readonly packets: Buffer[] = [];
	readonly from: dgram.RemoteInfo[] = [];
	port = 0;

	static async open(): Promise<Peer> {
		const p = new Peer();
		p.socket.on('message', (msg, rinfo) => {
			p.packets.push(msg);
			p.from.push(rinfo);
		});
		p.socket.bind(0, '127.0.0.1');
		await once(p.socket, 'listening');
		p.port = p.socket.address().port;
		return p;
	}

	send(buf: Buffer, port: number): Promise<void> {
		return new Promise((resolve, reject) => {
			this.socket.send(buf, port, '127.0.0.1', (err) => (err ? reject(err) : resolve()));
		});
	}

	/** Waits until `n` packets in total have arrived. */
	async received(n: number): Promise<Buffer[]> {
		await until(() => this.packets.length >= n, `${n} packets at port ${this.port}`);
		return this.packets;
	}

	close(): Promise<void> {
		return new Promise((resolve) => this.socket.close(() => resolve()));
	}
}
