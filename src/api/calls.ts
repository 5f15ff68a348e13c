/**
 * Call API and voicemail routes (under /api/v1, behind the admin token):
 *
 *   GET    /calls                 live calls with their parties and state
 *   POST   /calls                 originate: ring `from` (an extension), then connect it to `to`
 *   DELETE /calls/:id             hang up every leg of a call
 *   GET    /voicemail[?mailbox=]  stored messages, oldest first
 *   GET    /voicemail/:id         one message
 *   GET    /voicemail/:id/audio   its WAV file
 *   PATCH  /voicemail/:id         { heard: boolean }
 *   DELETE /voicemail/:id         the message and its file
 *
 * Registered by api.ts as a plugin; its error handler answers this file's
 * own codes and passes everything else (validation …) to the API's handler.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ServerError } from '../common/errors.js';
import { NUMBER_PATTERN } from '../store/index.js';
import type { VoicemailRecord } from '../voicemail/repository.js';
import type { VoicemailService } from '../voicemail/service.js';

/** One side of a live call, as the API shows it. */
export interface CallPartyView {
	/** client, employee (A), target (B) … */
	role: string;
	number: string;
	displayName: string;
	/** ringing, talking, held, consulting, ended … */
	state: string;
}

export interface CallView {
	id: string;
	/** incoming, outgoing, internal, api */
	direction: string;
	state: string;
	parties: CallPartyView[];
	startedAt: Date;
}

/** What the routes need from the call layer (structural: src/transfer implements it). */
export interface CallControl {
	list(): CallView[];
	/** Rings `from`; when answered, calls `to` for it. Resolves once `from` is being rung. */
	originate(req: { from: string; to: string; callerId?: string; displayName?: string }): Promise<CallView>;
	/** false when there is no such call. */
	hangup(id: string): Promise<boolean>;
}

export interface CallRoutesOptions {
	calls?: CallControl | undefined;
	voicemail?: VoicemailService | undefined;
}

export class CallNotFoundError extends ServerError {
	constructor(id: string) {
		super('CALL_NOT_FOUND', `no live call ${id}`);
	}
}

/** The server runs without the call layer (or without a store for voicemail). */
export class FeatureUnavailableError extends ServerError {
	constructor(what: string) {
		super('FEATURE_UNAVAILABLE', `${what} is not available on this server`);
	}
}

/** A target that cannot be called (unknown extension, no route). */
export class CallTargetError extends ServerError {
	constructor(message: string) {
		super('CALL_TARGET_INVALID', message);
	}
}

const STATUS: Readonly<Record<string, number>> = {
	CALL_NOT_FOUND: 404,
	VOICEMAIL_NOT_FOUND: 404,
	CALL_TARGET_INVALID: 400,
	FEATURE_UNAVAILABLE: 503,
};

/** An extension/number, or a SIP URI (no blanks or control characters). */
const SIP_URI_PATTERN = '^sips?:[^\\s\\x00-\\x1f<>"]{1,250}$';
const target = { anyOf: [{ type: 'string', pattern: NUMBER_PATTERN }, { type: 'string', pattern: SIP_URI_PATTERN }] } as const;
const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;
const idParams = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9]{1,15}$' } } } as const;
const callIdParams = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[0-9A-Za-z-]+$' } } } as const;

const partyOut = {
	type: 'object',
	properties: { role: { type: 'string' }, number: { type: 'string' }, displayName: { type: 'string' }, state: { type: 'string' } },
} as const;
const callOut = {
	type: 'object',
	properties: {
		id: { type: 'string' },
		direction: { type: 'string' },
		state: { type: 'string' },
		parties: { type: 'array', items: partyOut },
		startedAt: { type: 'string', format: 'date-time' },
	},
} as const;
const voicemailOut = {
	type: 'object',
	properties: {
		id: { type: 'integer' },
		mailbox: { type: 'string' },
		caller: { type: 'string' },
		called: { type: 'string' },
		durationMs: { type: 'integer' },
		sampleRate: { type: 'integer' },
		reason: { type: 'string' },
		heard: { type: 'boolean' },
		createdAt: { type: 'string', format: 'date-time' },
		audio: { type: 'string' },
	},
} as const;

/** The file path stays on the server; clients get the audio URL. */
function voicemailView(r: VoicemailRecord, prefix: string): Record<string, unknown> {
	return {
		id: r.id,
		mailbox: r.mailbox,
		caller: r.caller,
		called: r.called,
		durationMs: r.durationMs,
		sampleRate: r.sampleRate,
		reason: r.reason,
		heard: r.heard,
		createdAt: r.createdAt.toISOString(),
		audio: `${prefix}/voicemail/${r.id}/audio`,
	};
}

function callView(c: CallView): Record<string, unknown> {
	return { ...c, startedAt: c.startedAt.toISOString() };
}

type IdRoute = { Params: { id: string } };

export async function callRoutes(api: FastifyInstance, opts: CallRoutesOptions): Promise<void> {
	const prefix = api.prefix;
	api.setErrorHandler((error, _req, reply) => {
		if (error instanceof ServerError && STATUS[error.code] !== undefined) {
			return reply.code(STATUS[error.code]!).send({ error: { code: error.code, message: error.message } });
		}
		// Everything else (schema validation, fastify's own) is the API's business.
		throw error;
	});
	const calls = (): CallControl => {
		if (!opts.calls) {
			throw new FeatureUnavailableError('the call API');
		}
		return opts.calls;
	};
	const voicemail = (): VoicemailService => {
		if (!opts.voicemail) {
			throw new FeatureUnavailableError('voicemail (it needs dataDir)');
		}
		return opts.voicemail;
	};
	const message = (id: string): VoicemailRecord => {
		const vm = voicemail();
		const r = vm.repo.get(Number(id));
		if (!r) {
			throw new ServerError('VOICEMAIL_NOT_FOUND', `no voicemail message ${id}`);
		}
		return r;
	};

	api.get('/calls', { schema: { querystring: noQuery, response: { 200: { type: 'object', properties: { calls: { type: 'array', items: callOut } } } } } }, async () => ({
		calls: calls().list().map(callView),
	}));

	api.post(
		'/calls',
		{
			schema: {
				querystring: noQuery,
				body: {
					type: 'object',
					additionalProperties: false,
					required: ['from', 'to'],
					properties: {
						from: target,
						to: target,
						callerId: { type: 'string', pattern: NUMBER_PATTERN },
						displayName: { type: 'string', maxLength: 64, pattern: '^[^"\\\\\\x00-\\x1f]*$' },
					},
				},
				response: { 201: callOut },
			},
		},
		async (req: FastifyRequest<{ Body: { from: string; to: string; callerId?: string; displayName?: string } }>, reply: FastifyReply) => {
			const call = await calls().originate(req.body);
			return reply.code(201).header('location', `${prefix}/calls/${call.id}`).send(callView(call));
		},
	);

	api.delete('/calls/:id', { schema: { params: callIdParams, querystring: noQuery } }, async (req: FastifyRequest<IdRoute>, reply: FastifyReply) => {
		if (!(await calls().hangup(req.params.id))) {
			throw new CallNotFoundError(req.params.id);
		}
		return reply.code(204).send();
	});

	api.get(
		'/voicemail',
		{
			schema: {
				querystring: { type: 'object', additionalProperties: false, properties: { mailbox: { type: 'string', pattern: NUMBER_PATTERN } } },
				response: { 200: { type: 'object', properties: { messages: { type: 'array', items: voicemailOut } } } },
			},
		},
		async (req: FastifyRequest<{ Querystring: { mailbox?: string } }>) => ({
			messages: voicemail()
				.repo.list(req.query.mailbox)
				.map((r) => voicemailView(r, prefix)),
		}),
	);

	api.get('/voicemail/:id', { schema: { params: idParams, querystring: noQuery, response: { 200: voicemailOut } } }, async (req: FastifyRequest<IdRoute>) =>
		voicemailView(message(req.params.id), prefix),
	);

	api.get('/voicemail/:id/audio', { schema: { params: idParams, querystring: noQuery } }, async (req: FastifyRequest<IdRoute>, reply: FastifyReply) => {
		const r = message(req.params.id);
		let size: number;
		try {
			size = (await stat(r.file)).size;
		} catch {
			throw new ServerError('VOICEMAIL_NOT_FOUND', `the audio of voicemail message ${r.id} is missing`);
		}
		return reply
			.type('audio/wav')
			.header('content-length', size)
			.header('content-disposition', `attachment; filename="voicemail-${r.id}.wav"`)
			.send(createReadStream(r.file));
	});

	api.patch(
		'/voicemail/:id',
		{
			schema: {
				params: idParams,
				querystring: noQuery,
				body: { type: 'object', additionalProperties: false, required: ['heard'], properties: { heard: { type: 'boolean' } } },
				response: { 200: voicemailOut },
			},
		},
		async (req: FastifyRequest<IdRoute & { Body: { heard: boolean } }>) => {
			message(req.params.id);
			return voicemailView(voicemail().repo.markHeard(Number(req.params.id), req.body.heard), prefix);
		},
	);

	api.delete('/voicemail/:id', { schema: { params: idParams, querystring: noQuery } }, async (req: FastifyRequest<IdRoute>, reply: FastifyReply) => {
		message(req.params.id);
		await voicemail().delete(Number(req.params.id));
		return reply.code(204).send();
	});
}
