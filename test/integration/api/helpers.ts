/** A real API on 127.0.0.1, port 0, over a real SQLite file in a temp directory. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createApi, type LiveView, type ParticipantView } from '../../../src/api/index.js';
import { openStore, type Store } from '../../../src/store/index.js';

export const TOKEN = 'test-token-0123456789abcdef';

export interface Reply {
	status: number;
	headers: Headers;
	/** Parsed JSON, or undefined for an empty body. */
	body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface TestApi {
	base: string;
	store: Store;
	app: FastifyInstance;
	/** A request with the admin token and a JSON body (when given). */
	call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
	/** A request exactly as given: no token, raw body. */
	raw(method: string, path: string, init?: { headers?: Record<string, string>; body?: string }): Promise<Reply>;
	close(): Promise<void>;
}

async function toReply(res: Response): Promise<Reply> {
	const text = await res.text();
	return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}

export async function startApi(opts: { live?: LiveView } = {}): Promise<TestApi> {
	const dir = mkdtempSync(join(tmpdir(), 'confsrv-api-'));
	const store = openStore(join(dir, 'confsrv.sqlite'), { realm: 'test' });
	const app = createApi({ store, token: TOKEN, ...(opts.live ? { live: opts.live } : {}) });
	await app.listen({ port: 0, host: '127.0.0.1' });
	const { port } = app.server.address() as AddressInfo;
	const base = `http://127.0.0.1:${port}/api/v1`;
	const raw = async (method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<Reply> =>
		toReply(await fetch(base + path, { method, headers: init.headers ?? {}, ...(init.body !== undefined ? { body: init.body } : {}) }));
	return {
		base,
		store,
		app,
		raw,
		call(method, path, body, headers = {}) {
			const h: Record<string, string> = { authorization: `Bearer ${TOKEN}`, ...headers };
			if (body !== undefined) {
				h['content-type'] ??= 'application/json';
			}
			return raw(method, path, { headers: h, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
		},
		async close() {
			await app.close();
			store.close();
			rmSync(dir, { recursive: true, force: true });
		},
	};
}

/**
 * A LiveView over plain maps, the shape the server's room registry gives:
 * rooms that are live, each with its participants.
 */
export class FakeLive implements LiveView {
	readonly rooms = new Map<string, { locked: boolean; participants: ParticipantView[] }>();
	readonly calls: string[] = [];

	addRoom(number: string, participants: ParticipantView[]): void {
		this.rooms.set(number, { locked: false, participants });
	}

	participants(number: string): ParticipantView[] {
		this.calls.push(`participants ${number}`);
		return this.rooms.get(number)?.participants ?? [];
	}

	mute(number: string, id: string, muted: boolean): boolean {
		this.calls.push(`mute ${number} ${id} ${muted}`);
		const p = this.rooms.get(number)?.participants.find((x) => x.id === id);
		if (!p) {
			return false;
		}
		p.muted = muted;
		return true;
	}

	/** Async, as the real one may be (a BYE goes out). */
	async kick(number: string, id: string): Promise<boolean> {
		this.calls.push(`kick ${number} ${id}`);
		const room = this.rooms.get(number);
		const i = room?.participants.findIndex((x) => x.id === id) ?? -1;
		if (!room || i < 0) {
			return false;
		}
		room.participants.splice(i, 1);
		return true;
	}

	end(number: string): number {
		this.calls.push(`end ${number}`);
		const room = this.rooms.get(number);
		const n = room?.participants.length ?? 0;
		if (room) {
			room.participants = [];
		}
		return n;
	}

	lock(number: string, locked: boolean): boolean {
		this.calls.push(`lock ${number} ${locked}`);
		const room = this.rooms.get(number);
		if (!room) {
			return false;
		}
		room.locked = locked;
		return true;
	}
}
