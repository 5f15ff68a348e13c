/**
 * SIP message model shared by the parser, serializer, transports,
 * transactions and dialogs. Header names are stored in canonical lower-case
 * long form ('v' → 'via', 'f' → 'from' …); the serializer writes them in the
 * conventional capitalisation.
 */

/** Where a message came from or goes to, and over which transport. */
export interface SipAddress {
	transport: 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
	address: string;
	port: number;
	/** Connection-oriented transports: the connection id to answer on. */
	connectionId?: number;
}

/** Ordered multi-map of headers. Each entry is one header field line. */
export class SipHeaders {
	readonly entries: Array<[name: string, value: string]> = [];

	/** First value of a header, or undefined. */
	get(name: string): string | undefined {
		const n = name.toLowerCase();
		for (const [k, v] of this.entries) {
			if (k === n) {
				return v;
			}
		}
		return undefined;
	}

	/** All values, in order. Comma-separated lists are NOT split here. */
	getAll(name: string): string[] {
		const n = name.toLowerCase();
		const out: string[] = [];
		for (const [k, v] of this.entries) {
			if (k === n) {
				out.push(v);
			}
		}
		return out;
	}

	has(name: string): boolean {
		return this.get(name) !== undefined;
	}

	/** Replaces every occurrence with one value. */
	set(name: string, value: string): this {
		this.remove(name);
		this.entries.push([name.toLowerCase(), value]);
		return this;
	}

	append(name: string, value: string): this {
		this.entries.push([name.toLowerCase(), value]);
		return this;
	}

	/** Inserts before the first header of that name (e.g. a new top Via). */
	prepend(name: string, value: string): this {
		const n = name.toLowerCase();
		const i = this.entries.findIndex(([k]) => k === n);
		if (i < 0) {
			this.entries.push([n, value]);
		} else {
			this.entries.splice(i, 0, [n, value]);
		}
		return this;
	}

	remove(name: string): this {
		const n = name.toLowerCase();
		for (let i = this.entries.length - 1; i >= 0; i--) {
			if (this.entries[i]![0] === n) {
				this.entries.splice(i, 1);
			}
		}
		return this;
	}

	clone(): SipHeaders {
		const h = new SipHeaders();
		for (const [k, v] of this.entries) {
			h.entries.push([k, v]);
		}
		return h;
	}
}

export interface SipRequest {
	kind: 'request';
	method: string;
	/** Request-URI as it appeared on the wire. */
	uri: string;
	version: string;
	headers: SipHeaders;
	body: Buffer;
	/** Set by the transport on receipt. */
	source?: SipAddress;
}

export interface SipResponse {
	kind: 'response';
	status: number;
	reason: string;
	version: string;
	headers: SipHeaders;
	body: Buffer;
	source?: SipAddress;
}

export type SipMessage = SipRequest | SipResponse;

/** A parsed SIP/SIPS/TEL URI. */
export interface SipUri {
	scheme: 'sip' | 'sips' | 'tel';
	user?: string;
	password?: string;
	host: string;
	port?: number;
	/** ;name=value URI parameters (value null for flags like ;lr). Names lower-case. */
	params: Record<string, string | null>;
	/** ?name=value URI headers. */
	headers: Record<string, string>;
}

/** A name-addr or addr-spec with header parameters (From, To, Contact, Route …). */
export interface NameAddr {
	displayName?: string;
	uri: SipUri;
	/** Raw URI text as it appeared (for echoing back unchanged). */
	uriText: string;
	/** Header params after the address (tag, expires, q …). Names lower-case. */
	params: Record<string, string | null>;
}

/** One Via header value. */
export interface Via {
	protocol: string; // 'SIP/2.0'
	transport: string; // 'UDP', 'TCP', …  (upper-case)
	host: string;
	port?: number;
	/** branch, received, rport (null when a flag) … Names lower-case. */
	params: Record<string, string | null>;
}

export interface CSeq {
	seq: number;
	method: string;
}
