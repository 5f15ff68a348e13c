import { TypedEmitter } from '../common/events.js';
import type { Logger } from '../common/logger.js';
import type { IncomingInvite, SipUserAgent } from '../sip/ua.js';
import { parseNameAddr } from '../sip/message/index.js';
import type { RoomRegistry } from '../rooms/index.js';
import { ConferenceCall, type CallDeps } from './conference-call.js';

export type CallManagerEvents = {
	callstarted: [ConferenceCall];
	callended: [ConferenceCall, string];
};

/**
 * The dial plan and the owner of every live call. An INVITE's Request-URI user
 * picks the room; an unknown number gets 404.
 */
export class CallManager extends TypedEmitter<CallManagerEvents> {
	readonly #calls = new Map<string, ConferenceCall>();
	readonly #rooms: RoomRegistry;
	readonly #deps: CallDeps;
	readonly #log: Logger;
	#closing = false;

	constructor(opts: { ua: SipUserAgent; rooms: RoomRegistry; deps: CallDeps }) {
		super();
		this.#rooms = opts.rooms;
		this.#deps = opts.deps;
		this.#log = opts.deps.log;
		opts.ua.on('invite', (invite) => this.#onInvite(invite));
	}

	get size(): number {
		return this.#calls.size;
	}

	list(): ConferenceCall[] {
		return [...this.#calls.values()];
	}

	#onInvite(invite: IncomingInvite): void {
		if (this.#closing) {
			invite.reject(503, 'Service Unavailable');
			return;
		}
		const number = invite.requestUri.user ?? '';
		const room = this.#rooms.byNumber(number);
		if (!room) {
			this.#log.info({ number }, 'INVITE for an unknown number');
			invite.reject(404, 'Not Found');
			return;
		}
		const call = new ConferenceCall(invite.req, room, callerOf(invite), this.#deps);
		this.#calls.set(call.id, call);
		call.once('ended', (reason) => {
			this.#calls.delete(call.id);
			this.safeEmit('callended', call, reason);
		});
		this.safeEmit('callstarted', call);
		call.accept(invite).catch((error: unknown) => {
			this.#log.error({ err: error }, 'call setup failed');
			void call.hangup('setup-error');
		});
	}

	/** Hangs up every call (BYE) and waits for them to end. */
	async close(): Promise<void> {
		this.#closing = true;
		await Promise.all(this.list().map((c) => c.hangup('shutdown')));
	}
}

function callerOf(invite: IncomingInvite): string {
	const from = invite.req.headers.get('from');
	if (!from) {
		return 'unknown';
	}
	try {
		const na = parseNameAddr(from);
		return na.displayName ? `${na.displayName} <${na.uri.user ?? na.uri.host}>` : (na.uri.user ?? na.uri.host);
	} catch {
		return 'unknown';
	}
}
