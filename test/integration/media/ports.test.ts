import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { ConfigError, PortsExhaustedError } from '../../../src/common/errors.js';
import { RtpPortAllocator, type AllocatedPort } from '../../../src/media/ports.js';
import { Peer, freeRange, until } from './udp.js';

function closeAll(list: AllocatedPort[]): Promise<unknown> {
	return Promise.all(list.map((a) => new Promise<void>((resolve) => a.socket.close(() => resolve()))));
}

describe('RtpPortAllocator', () => {
	it('hands out distinct even ports in range until exhausted, then reuses released ones', async () => {
		const base = await freeRange(10);
		const alloc = new RtpPortAllocator({ min: base, max: base + 9, host: '127.0.0.1' });
		assert.equal(alloc.capacity, 5);
		const got: AllocatedPort[] = [];
		try {
			for (let i = 0; i < 5; i++) {
				got.push(await alloc.allocate());
				assert.equal(alloc.inUse, i + 1);
			}
			const ports = got.map((a) => a.port);
			assert.deepEqual([...ports].sort((a, b) => a - b), [base, base + 2, base + 4, base + 6, base + 8]);
			for (const a of got) {
				assert.equal(a.socket.address().port, a.port, 'socket bound to the port');
			}
			await assert.rejects(alloc.allocate(), (err: unknown) => {
				assert.ok(err instanceof PortsExhaustedError);
				assert.equal(err.code, 'PORTS_EXHAUSTED');
				return true;
			});
			assert.equal(alloc.inUse, 5);
			const freed = got.splice(2, 1)[0]!;
			freed.socket.close();
			alloc.release(freed.port);
			alloc.release(freed.port);
			assert.equal(alloc.inUse, 4);
			const again = await alloc.allocate();
			got.push(again);
			assert.equal(again.port, freed.port);
		} finally {
			await closeAll(got);
		}
	});

	it('goes round robin instead of reusing the port just released', async () => {
		const base = await freeRange(10);
		const alloc = new RtpPortAllocator({ min: base, max: base + 9, host: '127.0.0.1' });
		const a = await alloc.allocate();
		a.socket.close();
		alloc.release(a.port);
		const b = await alloc.allocate();
		try {
			assert.equal(a.port, base);
			assert.equal(b.port, base + 2);
		} finally {
			await closeAll([b]);
		}
	});

	it('skips a port another socket holds', async () => {
		const base = await freeRange(6);
		const squatter = dgram.createSocket('udp4');
		squatter.bind(base + 2, '127.0.0.1');
		await once(squatter, 'listening');
		const alloc = new RtpPortAllocator({ min: base, max: base + 5, host: '127.0.0.1' });
		const got: AllocatedPort[] = [];
		try {
			got.push(await alloc.allocate());
			got.push(await alloc.allocate());
			assert.deepEqual(got.map((a) => a.port), [base, base + 4]);
			await assert.rejects(alloc.allocate(), PortsExhaustedError);
			assert.equal(alloc.inUse, 2, 'the failed bind is not counted');
		} finally {
			squatter.close();
			await closeAll(got);
		}
	});

	it('rounds an odd minimum up, and never races concurrent callers onto one port', async () => {
		const base = await freeRange(8);
		const alloc = new RtpPortAllocator({ min: base + 1, max: base + 7, host: '127.0.0.1' });
		assert.equal(alloc.min, base + 2);
		const settled = await Promise.allSettled([alloc.allocate(), alloc.allocate(), alloc.allocate()]);
		const got = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
		try {
			assert.deepEqual(got.map((a) => a.port).sort((a, b) => a - b), [base + 2, base + 4, base + 6]);
		} finally {
			await closeAll(got);
		}
	});

	it('gives sockets that receive datagrams', async () => {
		const base = await freeRange(2);
		const alloc = new RtpPortAllocator({ min: base, max: base + 1, host: '127.0.0.1' });
		const a = await alloc.allocate();
		const peer = await Peer.open();
		try {
			let got = '';
			a.socket.on('message', (m) => (got = m.toString()));
			await peer.send(Buffer.from('hello'), a.port);
			await until(() => got !== '', 'datagram');
			assert.equal(got, 'hello');
		} finally {
			await closeAll([a]);
			await peer.close();
		}
	});

	it('rejects bad ranges', () => {
		assert.throws(() => new RtpPortAllocator({ min: 0, max: 10, host: '127.0.0.1' }), ConfigError);
		assert.throws(() => new RtpPortAllocator({ min: 100, max: 99, host: '127.0.0.1' }), ConfigError);
		assert.throws(() => new RtpPortAllocator({ min: 1, max: 70000, host: '127.0.0.1' }), ConfigError);
		assert.throws(() => new RtpPortAllocator({ min: 101, max: 101, host: '127.0.0.1' }), ConfigError);
		assert.throws(() => new RtpPortAllocator({ min: 1.5, max: 10, host: '127.0.0.1' }), ConfigError);
	});
});
