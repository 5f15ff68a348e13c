import diagnostics_channel from 'node:diagnostics_channel';

/**
 * Observability channels (undici style): publishers pay nothing when nobody
 * subscribes (`hasSubscribers` is checked first), and metrics subscribe
 * without the SIP stack knowing about Prometheus.
 */
export interface SipMessageEvent {
	direction: 'in' | 'out';
	/** Request method, or undefined for responses. */
	method?: string;
	/** Response status, or undefined for requests. */
	status?: number;
	/** For responses: the CSeq method they answer. */
	cseqMethod?: string;
	transport: string;
}

export const sipMessageChannel = diagnostics_channel.channel('confsrv:sip:message');
