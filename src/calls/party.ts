import { randomUUID } from 'node:crypto';
import { TypedEmitter } from '../common/events.js';
import type { Logger } from '../common/logger.js';
import { MediaLeg, type MediaClock, type RtpPortAllocator } from '../media/index.js';
import { parseSipInfoDtmf } from '../media/dtmf/events.js';
import type { Dialog, SessionModify } from '../sip/ua.js';
import { buildAnswer, buildOffer, selectRemoteMedia, type RemoteMedia } from '../sip/sdp/index.js';
import type { Room } from '../rooms/index.js';

/** What every party needs: ports, the send clock, our RTP address, the RTP timeout. */
export interface PartyDeps {
	allocator: RtpPortAllocator;
	clock: MediaClock;
	rtpAddress: string;
	rtpTimeoutMs: number;
	log: Logger;
}

export type CallPartyEvents = {
	/** A key press: RFC 4733 from the leg or SIP INFO from the dialog. */
	dtmf: [digit: string];
	/** The far end put us on hold (true) or took us off it (false). */
	hold: [held: boolean];
	/** The dialog ended (BYE, ACK timeout, shutdown) or RTP stopped. */
	gone: [reason: string];
};

/**
 * One side of a call as the server anchors it: a SIP dialog, its media leg
 * and the room the leg is mixed in. Moving a party between rooms is
 * room.leave + room.join with the same rings, so transfer and conference
 * only move parties; a two-party call is a private room of two.
 *
 * The party answers re-offers itself: hold (sendonly/inactive) takes the leg
 * out of the mix and stops sending to the holder; a new address or codec
 * re-targets the leg. close() releases leg and membership exactly once; the
 * dialog is ended by hangup() (BYE) or was ended by the far end.
 */
export class CallParty extends TypedEmitter<CallPartyEvents> {
	readonly id = randomUUID();
	readonly displayName: string;
	readonly leg: MediaLeg;
	readonly #deps: PartyDeps;
	readonly #log: Logger;
	readonly #sessionId = Math.floor(Math.random() * 1e9);
	#sessionVersion = 1;
	#callId: string;
	#dialog: Dialog | undefined;
	#room: Room | undefined;
	#joined = false;
	#remote: RemoteMedia | undefined;
	#held = false;
	#clocked = false;
	#closed: Promise<void> | undefined;
	/** Room moves run one at a time. */
	#queue: Promise<unknown> = Promise.resolve();

	/** Allocates the leg at `mixRate` (the rate of the rooms it will be in). */
	static async create(deps: PartyDeps, opts: { displayName: string; callId: string; mixRate: number }): Promise<CallParty> {
		const leg = await MediaLeg.create({ allocator: deps.allocator, mixRate: opts.mixRate, rtpTimeoutMs: deps.rtpTimeoutMs });
		return new CallParty(deps, leg, opts.displayName, opts.callId);
	}

	private constructor(deps: PartyDeps, leg: MediaLeg, displayName: string, callId: string) {
		super();
		this.#deps = deps;
		this.leg = leg;
		this.displayName = displayName;
		this.#callId = callId;
		this.#log = deps.log.child({ party: this.id, callId });
		leg.on('dtmf', (digit) => this.safeEmit('dtmf', digit));
		leg.on('rtptimeout', () => {
			if (this.#held) {
				// A holder on `inactive` sends nothing; that is not a dead call.
				return;
			}
			this.#log.warn('RTP stopped');
			this.safeEmit('gone', 'rtp-timeout');
		});
	}

	get callId(): string {
		return this.#callId;
	}

	get dialog(): Dialog | undefined {
		return this.#dialog;
	}

	get room(): Room | undefined {
		return this.#room;
	}

	get remote(): RemoteMedia | undefined {
		return this.#remote;
	}

	get held(): boolean {
		return this.#held;
	}

	get closed(): boolean {
		return this.#closed !== undefined;
	}

	#local(): { address: string; port: number; sessionId: number; sessionVersion: number } {
		return { address: this.#deps.rtpAddress, port: this.leg.localPort, sessionId: this.#sessionId, sessionVersion: this.#sessionVersion++ };
	}

	/** Our SDP offer (calls we place, and INVITEs that came without one). */
	offer(): string {
		return buildOffer(this.#local());
	}

	/**
	 * Our answer to `offer`; points the leg at the far end. Throws SipError
	 * 488 when no codec is shared (or cannot run here).
	 */
	answer(offer: string): string {
		const remote = selectRemoteMedia(offer);
		this.applyRemote(remote);
		return buildAnswer(offer, remote, this.#local());
	}

	/** Takes the far end's answer to our offer (2xx, or the ACK of a late offer). */
	takeAnswer(sdp: string): void {
		this.applyRemote(selectRemoteMedia(sdp));
	}

	applyRemote(remote: RemoteMedia): void {
		const r: Parameters<MediaLeg['setRemote']>[0] = {
			address: remote.address,
			port: remote.port,
			codec: remote.codec,
			clockRate: remote.clockRate,
			payloadType: remote.payloadType,
		};
		if (remote.fmtp !== undefined) {
			r.fmtp = remote.fmtp;
		}
		if (remote.telephoneEventPt !== undefined) {
			r.telephoneEventPt = remote.telephoneEventPt;
			r.telephoneEventClockRate = remote.telephoneEventClockRate ?? 8000;
		}
		try {
			this.leg.setRemote(r);
		} catch (error) {
			// A codec the SDP layer accepts but this machine cannot run (opus without its binding).
			const e = new Error(error instanceof Error ? error.message : String(error));
			throw Object.assign(e, { status: 488 });
		}
		this.#remote = remote;
		this.#setHeld(remote.direction === 'sendonly' || remote.direction === 'inactive');
	}

	/** Takes over the dialog: re-offers, INFO digits and its end come to this party. */
	attach(dialog: Dialog): void {
		this.#dialog = dialog;
		this.#callId = dialog.callId;
		dialog.on('modify', (m) => this.#onModify(m));
		dialog.on('info', (req) => {
			const parsed = parseSipInfoDtmf(req.headers.get('content-type') ?? '', req.body.toString('utf8'));
			if (parsed) {
				this.#log.info({ digit: parsed.digit }, 'SIP INFO digit');
				this.safeEmit('dtmf', parsed.digit);
			}
		});
		dialog.on('destroy', (reason) => this.safeEmit('gone', reason));
	}

	#onModify(m: SessionModify): void {
		if (m.offer === undefined) {
			// Offerless re-INVITE: offer again; the answer comes in the ACK.
			const sdp = this.offer();
			this.#dialog?.once('ack', (ack) => {
				if (ack.body.length > 0) {
					try {
						this.takeAnswer(ack.body.toString('utf8'));
					} catch (error) {
						this.#log.warn({ err: error }, 'unusable SDP answer in ACK');
					}
				}
			});
			m.accept(sdp);
			return;
		}
		try {
			m.accept(this.answer(m.offer));
		} catch (error) {
			const status = (error as { status?: number }).status ?? 488;
			this.#log.warn({ err: error, status }, 're-offer refused');
			m.reject(status >= 400 && status < 700 ? status : 488, 'Not Acceptable Here');
		}
	}

	/**
	 * Hold: the holder (sendonly/inactive) is taken out of the mix, so the
	 * other side hears silence rather than whatever the holder sends, and
	 * nothing is sent to the holder. Resume puts the leg back.
	 */
	#setHeld(held: boolean): void {
		if (held === this.#held) {
			return;
		}
		this.#held = held;
		this.#log.info({ held }, held ? 'put on hold' : 'taken off hold');
		this.#serial(async () => {
			if (this.#closed) {
				return;
			}
			if (held) {
				this.#unclock();
				if (this.#joined && this.#room) {
					this.#joined = false;
					await this.#room.leave(this.id);
				}
			} else if (this.#room && !this.#joined) {
				await this.#joinRoom(this.#room);
			}
		}).catch((error: unknown) => this.#log.error({ err: error }, 'hold change failed'));
		this.safeEmit('hold', held);
	}

	#serial<T>(fn: () => Promise<T>): Promise<T> {
		const run = this.#queue.then(fn, fn);
		this.#queue = run.catch(() => undefined);
		return run;
	}

	async #joinRoom(room: Room): Promise<void> {
		await room.join({
			id: this.id,
			displayName: this.displayName,
			callId: this.#callId,
			joinedAt: new Date(),
			rings: { input: this.leg.toMixer, output: this.leg.fromMixer },
		});
		this.#joined = true;
		if (!this.#clocked && !this.leg.closed) {
			this.#deps.clock.add(this.leg);
			this.#clocked = true;
		}
	}

	#unclock(): void {
		if (this.#clocked) {
			this.#deps.clock.remove(this.leg);
			this.#clocked = false;
		}
	}

	/**
	 * Puts the party into `room` (leaving the one it is in). While on hold it
	 * only remembers the room and joins on resume. Rejects when the join fails.
	 */
	moveTo(room: Room): Promise<void> {
		return this.#serial(async () => {
			if (this.#closed) {
				return;
			}
			if (this.#room === room && this.#joined) {
				return;
			}
			if (this.#joined && this.#room) {
				this.#joined = false;
				await this.#room.leave(this.id);
			}
			this.#room = room;
			if (!this.#held) {
				await this.#joinRoom(room);
			}
		});
	}

	/** Leaves the current room (the leg keeps running, hearing nothing). */
	leaveRoom(): Promise<void> {
		return this.#serial(async () => {
			const room = this.#room;
			this.#room = undefined;
			if (this.#joined && room) {
				this.#joined = false;
				await room.leave(this.id);
			}
		});
	}

	/** BYE when the dialog is alive, then close(). */
	async hangup(reason: string): Promise<void> {
		const d = this.#dialog;
		if (d && !d.destroyed) {
			await d.bye(reason).catch(() => undefined);
		}
		await this.close();
	}

	/** Releases room membership, clock slot and leg; idempotent. */
	close(): Promise<void> {
		this.#closed ??= (async () => {
			this.#unclock();
			await this.#queue;
			const room = this.#room;
			if (this.#joined && room) {
				this.#joined = false;
				await room.leave(this.id).catch((error: unknown) => this.#log.error({ err: error }, 'leave failed'));
			}
			this.leg.close();
		})();
		return this.#closed;
	}
}
