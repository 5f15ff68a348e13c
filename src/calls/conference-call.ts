import { randomUUID } from 'node:crypto';
import { TypedEmitter } from '../common/events.js';
import { SipError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { SipRequest } from '../sip/message/types.js';
import type { Dialog, IncomingInvite } from '../sip/ua.js';
import { buildAnswer, buildOffer, selectRemoteMedia, type RemoteMedia } from '../sip/sdp/index.js';
import type { MediaClock, MediaLeg, RtpPortAllocator } from '../media/index.js';
import { MediaLeg as MediaLegClass } from '../media/index.js';
import type { Room } from '../rooms/index.js';

export type CallState = 'setup' | 'active' | 'ended';

export type CallEvents = {
	ended: [reason: string];
};

export interface CallDeps {
	allocator: RtpPortAllocator;
	clock: MediaClock;
	rtpAddress: string;
	rtpTimeoutMs: number;
	log: Logger;
}

/**
 * One caller in a room: a SIP dialog, a media leg and a room membership. The
 * call owns its leg and its dialog, so ending the call (for any reason:
 * BYE, RTP timeout, ACK timeout, shutdown) releases both exactly once.
 */
export class ConferenceCall extends TypedEmitter<CallEvents> {
	readonly id = randomUUID();
	readonly callId: string;
	readonly caller: string;
	readonly room: Room;
	readonly startedAt = new Date();
	#state: CallState = 'setup';
	#leg: MediaLeg | undefined;
	#dialog: Dialog | undefined;
	#joined = false;
	readonly #deps: CallDeps;
	readonly #log: Logger;
	readonly #sessionId = Math.floor(Math.random() * 1e9);
	#ended: Promise<void> | undefined;

	constructor(req: SipRequest, room: Room, caller: string, deps: CallDeps) {
		super();
		this.callId = req.headers.get('call-id') ?? '';
		this.room = room;
		this.caller = caller;
		this.#deps = deps;
		this.#log = deps.log.child({ call: this.id, room: room.number, callId: this.callId });
	}

	get state(): CallState {
		return this.#state;
	}

	get leg(): MediaLeg | undefined {
		return this.#leg;
	}

	/** Answers the INVITE and joins the room. Rejections are sent from here too. */
	async accept(invite: IncomingInvite): Promise<void> {
		const req = invite.req;
		let remote: RemoteMedia | undefined;
		const offer = req.body.length > 0 ? req.body.toString('utf8') : undefined;
		try {
			if (offer !== undefined) {
				// 488 before any port is taken when we share no codec.
				remote = selectRemoteMedia(offer);
			}
			this.#leg = await MediaLegClass.create({
				allocator: this.#deps.allocator,
				mixRate: this.room.sampleRate,
				frameSamples: this.room.frameSamples,
				rtpTimeoutMs: this.#deps.rtpTimeoutMs,
			});
		} catch (error) {
			const status = error instanceof SipError ? error.status : 503;
			const reason = error instanceof SipError ? error.reason : 'Service Unavailable';
			this.#log.warn({ err: error, status }, 'call rejected');
			invite.reject(status, reason);
			await this.#finish(`rejected ${status}`);
			return;
		}
		if (invite.cancelled) {
			await this.#finish('cancelled');
			return;
		}
		const leg = this.#leg;
		const local = { address: this.#deps.rtpAddress, port: leg.localPort, sessionId: this.#sessionId, sessionVersion: 1 };
		const body = offer !== undefined && remote ? buildAnswer(offer, remote, local) : buildOffer(local);
		if (remote) {
			try {
				this.#applyRemote(remote);
			} catch (error) {
				// A codec the SDP layer accepts but this machine cannot run (opus without its binding).
				this.#log.warn({ err: error, status: 488 }, 'call rejected');
				invite.reject(488, 'Not Acceptable Here');
				await this.#finish('rejected 488');
				return;
			}
		}
		leg.on('dtmf', (digit) => this.#log.info({ digit }, 'dtmf'));
		leg.on('rtptimeout', () => {
			this.#log.warn('RTP stopped: hanging up');
			void this.hangup('rtp-timeout');
		});
		let dialog: Dialog;
		try {
			dialog = invite.accept(body);
		} catch (error) {
			this.#log.warn({ err: error }, 'could not answer');
			await this.#finish('answer-failed');
			return;
		}
		this.#dialog = dialog;
		dialog.on('ack', (ack) => {
			if (!remote && ack.body.length > 0) {
				// Late offer: the caller's answer comes in the ACK.
				try {
					remote = selectRemoteMedia(ack.body.toString('utf8'));
					this.#applyRemote(remote);
				} catch (error) {
					this.#log.warn({ err: error }, 'unusable SDP answer in ACK');
					void this.hangup('bad-sdp-in-ack');
				}
			}
		});
		dialog.on('destroy', (reason) => {
			void this.#finish(reason);
		});
		this.#state = 'active';
		try {
			await this.room.join({
				id: this.id,
				displayName: this.caller,
				callId: this.callId,
				joinedAt: new Date(),
				rings: { input: leg.toMixer, output: leg.fromMixer },
			});
			this.#joined = true;
		} catch (error) {
			this.#log.error({ err: error }, 'could not join the room');
			await this.hangup('join-failed');
			return;
		}
		// A BYE may have arrived while we were joining.
		if (this.#state !== 'active') {
			await this.room.leave(this.id);
			this.#joined = false;
			return;
		}
		this.#deps.clock.add(leg);
	}

	#applyRemote(remote: RemoteMedia): void {
		const leg = this.#leg;
		if (!leg) {
			return;
		}
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
		leg.setRemote(r);
	}

	/** Ends the call from our side: BYE when a dialog exists. */
	async hangup(reason: string): Promise<void> {
		if (this.#dialog && !this.#dialog.destroyed) {
			await this.#dialog.bye(reason).catch(() => undefined);
		}
		await this.#finish(reason);
	}

	#finish(reason: string): Promise<void> {
		this.#ended ??= (async () => {
			this.#state = 'ended';
			if (this.#leg) {
				this.#deps.clock.remove(this.#leg);
			}
			if (this.#joined) {
				this.#joined = false;
				await this.room.leave(this.id).catch((error: unknown) => this.#log.error({ err: error }, 'leave failed'));
			}
			this.#leg?.close();
			this.#log.info({ reason }, 'call ended');
			this.safeEmit('ended', reason);
		})();
		return this.#ended;
	}
}
