import { TypedEmitter } from '../common/events.js';
import type { Logger } from '../common/logger.js';
import type { RoomConfig } from '../config/index.js';
import { Room, type RoomMixer } from './room.js';

export type RoomRegistryEvents = {
	roomadded: [Room];
	roomremoved: [Room];
};

/**
 * Owns every Room. Rooms come from configuration for now; the store-backed
 * registry (rooms created over the API) plugs in here later.
 */
export class RoomRegistry extends TypedEmitter<RoomRegistryEvents> {
	readonly #byNumber = new Map<string, Room>();
	readonly #mixer: RoomMixer;
	readonly #log: Logger;
	readonly #defaultRate: number;

	constructor(opts: { mixer: RoomMixer; log: Logger; defaultSampleRate: number }) {
		super();
		this.#mixer = opts.mixer;
		this.#log = opts.log;
		this.#defaultRate = opts.defaultSampleRate;
	}

	load(rooms: readonly RoomConfig[]): void {
		for (const rc of rooms) {
			this.add(rc);
		}
	}

	add(rc: RoomConfig): Room {
		if (this.#byNumber.has(rc.number)) {
			throw new TypeError(`room number ${rc.number} already exists`);
		}
		const room = new Room({
			id: `room-${rc.number}`,
			name: rc.name,
			number: rc.number,
			sampleRate: rc.sampleRate ?? this.#defaultRate,
			mixer: this.#mixer,
			log: this.#log,
		});
		this.#byNumber.set(rc.number, room);
		this.safeEmit('roomadded', room);
		return room;
	}

	byNumber(number: string): Room | undefined {
		return this.#byNumber.get(number);
	}

	list(): Room[] {
		return [...this.#byNumber.values()];
	}

	async remove(number: string): Promise<void> {
		const room = this.#byNumber.get(number);
		if (!room) {
			return;
		}
		this.#byNumber.delete(number);
		await room.roomClosed();
		this.safeEmit('roomremoved', room);
	}

	async close(): Promise<void> {
		for (const number of [...this.#byNumber.keys()]) {
			await this.remove(number);
		}
	}
}
