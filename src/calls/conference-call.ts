import { randomUUID } from 'node:crypto';
import { TypedEmitter } from '../common/events.js';
import { SipError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { SipRequest } from '../sip/message/types.js';
import type { Dialog, IncomingInvite } from '../sip/ua.js';
import type { MediaLeg } from '../media/index.js';
import type { Room } from '../rooms/index.js';
import { CallParty, type PartyDeps } from './party.js';

export type CallState = 'setup' | 'active' | 'ended';

export type CallEvents = {
	ended: [reason: string];
};

export type CallDeps = PartyDeps;

/**
 * One caller in a room: a CallParty (dialog, media leg, room membership)
 * answered from an INVITE. The call owns its party, so ending the call (for
 * any reason: BYE, RTP timeout, ACK timeout, shutdown) releases everything
 * exactly once.
 */
export class ConferenceCall extends TypedEmitter<CallEvents> {
	readonly id = randomUUID();
	readonly callId: string;
	readonly caller: string;
	readonly room: Room;
	readonly startedAt = new Date();
	#state: CallState = 'setup';
	#party: CallParty | undefined;
	readonly #deps: CallDeps;
	readonly #log: Logger;
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

	get party(): CallParty | undefined {
		return this.#party;
	}

	get leg(): MediaLeg | undefined {
		return this.#party?.leg;
	}

	/** Answers the INVITE and joins the room. Rejections are sent from here too. */
	async accept(invite: IncomingInvite): Promise<void> {
		const offer = invite.req.body.length > 0 ? invite.req.body.toString('utf8') : undefined;
		let party: CallParty;
		let body: string;
		try {
			party = await CallParty.create(this.#deps, { displayName: this.caller, callId: this.callId, mixRate: this.room.sampleRate });
			this.#party = party;
			// 488 when we share no codec (the leg is released by #finish).
			body = offer !== undefined ? party.answer(offer) : party.offer();
		} catch (error) {
			const status = error instanceof SipError ? error.status : ((error as { status?: number }).status ?? 503);
			const reason = error instanceof SipError ? error.reason : status === 488 ? 'Not Acceptable Here' : 'Service Unavailable';
			this.#log.warn({ err: error, status }, 'call rejected');
			invite.reject(status, reason);
			await this.#finish(`rejected ${status}`);
			return;
		}
		if (invite.cancelled) {
			await this.#finish('cancelled');
			return;
		}
		party.on('dtmf', (digit) => this.#log.info({ digit }, 'dtmf'));
		party.on('gone', (reason) => {
			if (reason === 'rtp-timeout') {
				this.#log.warn('RTP stopped: hanging up');
			}
			void this.hangup(reason);
		});
		let dialog: Dialog;
		try {
			dialog = invite.accept(body);
		} catch (error) {
			this.#log.warn({ err: error }, 'could not answer');
			await this.#finish('answer-failed');
			return;
		}
		party.attach(dialog);
		if (offer === undefined) {
			dialog.once('ack', (ack) => {
				// Late offer: the caller's answer comes in the ACK.
				if (ack.body.length === 0) {
					return;
				}
				try {
					party.takeAnswer(ack.body.toString('utf8'));
				} catch (error) {
					this.#log.warn({ err: error }, 'unusable SDP answer in ACK');
					void this.hangup('bad-sdp-in-ack');
				}
			});
		}
		this.#state = 'active';
		try {
			await party.moveTo(this.room);
		} catch (error) {
			this.#log.error({ err: error }, 'could not join the room');
			await this.hangup('join-failed');
		}
	}

	/** Ends the call from our side: BYE when a dialog exists. */
	async hangup(reason: string): Promise<void> {
		const d = this.#party?.dialog;
		if (d && !d.destroyed) {
			await d.bye(reason).catch(() => undefined);
		}
		await this.#finish(reason);
	}

	#finish(reason: string): Promise<void> {
		this.#ended ??= (async () => {
			this.#state = 'ended';
			await this.#party?.close();
			this.#log.info({ reason }, 'call ended');
			this.safeEmit('ended', reason);
		})();
		return this.#ended;
	}
}
