/**
 * The admin REST API (fastify): rooms, users and live moderation under
 * /api/v1. Every route has a schema checked before any logic (unknown fields
 * refused, no type coercion), every request needs the admin token, and every
 * error is `{ error: { code, message, field? } }` with a 4xx that says why.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ConfigError, ServerError } from '../common/errors.js';
import {
	CALLER_NUMBER_PATTERN,
	NUMBER_PATTERN,
	PIN_PATTERN,
	RoomNotFoundError,
	TEXT_PATTERN,
	UserNotFoundError,
	ValidationError,
	type RoomCreate,
	type RoomPatch,
	type RoomRecord,
	type Store,
} from '../store/index.js';
import { HTTP_STATUS, LiveUnavailableError, ParticipantNotFoundError, RoomNotLiveError, UnauthorizedError, WhitelistEntryNotFoundError } from './errors.js';
import type { LiveView } from './live.js';
import { callRoutes, type CallControl } from './calls.js';
import type { VoicemailService } from '../voicemail/service.js';
import {
	noQuery,
	participantOut,
	participantParams,
	revealQuery,
	roomCreateBody,
	roomOut,
	roomParams,
	roomPatchBody,
	userCreateBody,
	userOut,
	userParams,
	userPatchBody,
	whitelistAddBody,
	whitelistEntryParams,
} from './schemas.js';
import { participantView, roomView, userView } from './views.js';

export interface ApiOptions {
	store: Store;
	/** The admin API token (at least 16 characters), sent as `Authorization: Bearer <token>`. */
	token: string;
	/** Live rooms for the participant and moderation routes; without it they answer 503. */
	live?: LiveView;
	/** A pino logger for request logs; default none. */
	logger?: FastifyBaseLogger;
	/** Largest request body in bytes. Default 64 KiB. */
	bodyLimit?: number;
	/** Live calls for /calls (originate, list, hang up); without it those routes answer 503. */
	calls?: CallControl;
	/** Stored voicemail for /voicemail; without it those routes answer 503. */
	voicemail?: VoicemailService;
}

export const API_PREFIX = '/api/v1';
const MIN_TOKEN_LENGTH = 16;

/** Stable codes for fastify's own client errors. */
const FASTIFY_CODES: Readonly<Record<string, string>> = {
	FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
	FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
	FST_ERR_BAD_URL: 'BAD_URL',
};
const FASTIFY_STATUS_CODES: Readonly<Record<number, string>> = {
	413: 'BODY_TOO_LARGE',
	414: 'URI_TOO_LONG',
	415: 'UNSUPPORTED_MEDIA_TYPE',
};

type RoomRoute = { Params: { number: string }; Querystring: { revealPin?: 'true' | 'false' } };
type ParticipantRoute = { Params: { number: string; id: string } };
type UserRoute = { Params: { extension: string } };

function sha256(s: string): Buffer {
	return createHash('sha256').update(s, 'utf8').digest();
}

/** `/whitelist/2` → `whitelist[2]`, `/source/port` → `source.port`. */
function fieldOf(instancePath: string, extra?: string): string {
	const parts = instancePath.split('/').slice(1);
	if (extra !== undefined) {
		parts.push(extra);
	}
	return parts.reduce((acc, p) => (/^[0-9]+$/.test(p) ? `${acc}[${p}]` : acc === '' ? p : `${acc}.${p}`), '');
}

interface AjvError {
	instancePath: string;
	keyword: string;
	message?: string;
	params: Record<string, unknown>;
}

/** What the patterns mean, for people. */
const PATTERN_TEXT: Readonly<Record<string, string>> = {
	[PIN_PATTERN]: 'must be digits only (0-9), at least one',
	[CALLER_NUMBER_PATTERN]: 'must be a caller number: an optional + and 1-20 digits',
	[NUMBER_PATTERN]: 'must be 1-32 characters of 0-9 A-Z a-z _ . + -',
	[TEXT_PATTERN]: 'must not contain control characters',
};

/** A reason naming the field from the first ajv error. */
function validationReason(context: string, e: AjvError): { field: string; message: string } {
	const where = context === 'querystring' ? 'query parameter' : context === 'params' ? 'path parameter' : 'field';
	if (e.keyword === 'required') {
		const field = fieldOf(e.instancePath, String(e.params['missingProperty']));
		return { field, message: `${context}: ${where} ${field} is required` };
	}
	if (e.keyword === 'additionalProperties') {
		const field = fieldOf(e.instancePath, String(e.params['additionalProperty']));
		return { field, message: `${context}: unknown ${where} ${field}` };
	}
	const field = fieldOf(e.instancePath);
	if (field === '') {
		if (e.keyword === 'minProperties') {
			return { field, message: `${context}: give at least one field to change` };
		}
		return { field, message: `${context} ${e.message ?? 'is invalid'}` };
	}
	let detail = e.message ?? 'is invalid';
	if (e.keyword === 'enum' && Array.isArray(e.params['allowedValues'])) {
		detail = `must be one of ${(e.params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
	} else if (e.keyword === 'pattern') {
		detail = PATTERN_TEXT[String(e.params['pattern'])] ?? detail;
	} else if (e.keyword === 'type') {
		const types = e.params['type'];
		detail = `must be ${(Array.isArray(types) ? types.map(String) : String(types).split(',')).join(' or ')}`;
	}
	return { field, message: `${context}: ${where} ${field} ${detail}` };
}

function sendError(reply: FastifyReply, status: number, code: string, message: string, field?: string): FastifyReply {
	return reply.code(status).send({ error: field === undefined ? { code, message } : { code, message, field } });
}

/**
 * Builds the API. Call `listen()` (or `inject()`) on the result; `close()`
 * stops it. The store stays the caller's to close.
 */
export function createApi(options: ApiOptions): FastifyInstance {
	const { store, live } = options;
	if (typeof options.token !== 'string' || options.token.length < MIN_TOKEN_LENGTH) {
		throw new ConfigError(`the API token must be a string of at least ${MIN_TOKEN_LENGTH} characters`);
	}
	const tokenHash = sha256(options.token);

	const app = Fastify({
		...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
		bodyLimit: options.bodyLimit ?? 64 * 1024,
		// Router-level failures (before hooks run): a path parameter over 100 characters, a malformed URL.
		frameworkErrors: (error, _req, reply) => {
			const status = error.statusCode ?? 400;
			sendError(reply, status, FASTIFY_CODES[error.code] ?? FASTIFY_STATUS_CODES[status] ?? 'BAD_REQUEST', error.message);
		},
		ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allowUnionTypes: true, allErrors: false } },
	});

	// JSON only: text/plain bodies get 415 rather than reaching a schema as a string.
	app.removeContentTypeParser('text/plain');
	// An empty body with Content-Type: application/json is no body (POST …/end from curl -H …).
	const json = app.getDefaultJsonParser('error', 'error');
	app.removeContentTypeParser('application/json');
	app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
		const text = typeof body === 'string' ? body : body.toString('utf8');
		if (text.trim() === '') {
			done(null, undefined);
			return;
		}
		json(req, text, done);
	});

	app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
		const header = req.headers.authorization;
		const m = typeof header === 'string' ? /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(header) : null;
		// Compare fixed-length digests so neither the token nor its length leaks through timing.
		if (!m?.[1] || !timingSafeEqual(sha256(m[1]), tokenHash)) {
			reply.header('www-authenticate', 'Bearer realm="confsrv"');
			const e = new UnauthorizedError();
			return sendError(reply, 401, e.code, e.message);
		}
		return undefined;
	});

	app.setNotFoundHandler((req, reply) => {
		sendError(reply, 404, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0] ?? ''}`);
	});

	app.setErrorHandler((error: FastifyError, req, reply) => {
		if (error.validation) {
			const first = error.validation[0] as AjvError | undefined;
			const { field, message } = first ? validationReason(error.validationContext ?? 'body', first) : { field: '', message: error.message };
			return sendError(reply, 400, 'INVALID_INPUT', message, field === '' ? undefined : field);
		}
		if (error instanceof ValidationError) {
			return sendError(reply, 400, error.code, error.message, error.field === '' ? undefined : error.field);
		}
		if (error instanceof ServerError) {
			const status = HTTP_STATUS[error.code];
			if (status !== undefined) {
				return sendError(reply, status, error.code, error.message);
			}
		}
		const status = error.statusCode;
		if (status !== undefined && status >= 400 && status < 500) {
			// fastify's own: bad JSON (400), body too large (413), unsupported media type (415) …
			return sendError(reply, status, FASTIFY_CODES[error.code] ?? FASTIFY_STATUS_CODES[status] ?? 'BAD_REQUEST', error.message);
		}
		req.log.error({ err: error }, 'API request failed');
		return sendError(reply, 500, 'INTERNAL', 'internal error');
	});

	const mustRoom = (number: string): RoomRecord => {
		const room = store.rooms.getByNumber(number);
		if (!room) {
			throw new RoomNotFoundError(number);
		}
		return room;
	};
	const mustLive = (number: string): LiveView => {
		mustRoom(number);
		if (!live) {
			throw new LiveUnavailableError();
		}
		return live;
	};
	const reveal = (req: FastifyRequest<RoomRoute>): boolean => req.query.revealPin === 'true';

	app.register(
		async (api) => {
			await api.register(callRoutes, { calls: options.calls, voicemail: options.voicemail });

			// Rooms.
			api.get('/rooms', { schema: { querystring: revealQuery, response: { 200: { type: 'object', properties: { rooms: { type: 'array', items: roomOut } } } } } }, async (req: FastifyRequest<RoomRoute>) => ({
				rooms: store.rooms.list().map((r) => roomView(r, reveal(req))),
			}));

			api.post('/rooms', { schema: { body: roomCreateBody, querystring: revealQuery, response: { 201: roomOut } } }, async (req: FastifyRequest<RoomRoute & { Body: RoomCreate }>, reply) => {
				const room = store.rooms.create(req.body);
				return reply.code(201).header('location', `${API_PREFIX}/rooms/${encodeURIComponent(room.number)}`).send(roomView(room, reveal(req)));
			});

			api.get('/rooms/:number', { schema: { params: roomParams, querystring: revealQuery, response: { 200: roomOut } } }, async (req: FastifyRequest<RoomRoute>) =>
				roomView(mustRoom(req.params.number), reveal(req)),
			);

			api.patch('/rooms/:number', { schema: { params: roomParams, body: roomPatchBody, querystring: revealQuery, response: { 200: roomOut } } }, async (req: FastifyRequest<RoomRoute & { Body: RoomPatch }>) =>
				roomView(store.rooms.update(req.params.number, req.body), reveal(req)),
			);

			api.delete('/rooms/:number', { schema: { params: roomParams, querystring: noQuery } }, async (req: FastifyRequest<RoomRoute>, reply) => {
				store.rooms.delete(req.params.number);
				return reply.code(204).send();
			});

			api.post('/rooms/:number/pin', { schema: { params: roomParams, querystring: revealQuery, response: { 200: roomOut } } }, async (req: FastifyRequest<RoomRoute>) =>
				roomView(store.rooms.regeneratePin(req.params.number), reveal(req)),
			);

			api.post('/rooms/:number/whitelist', { schema: { params: roomParams, body: whitelistAddBody, querystring: revealQuery, response: { 200: roomOut } } }, async (req: FastifyRequest<RoomRoute & { Body: { caller: string } }>) =>
				roomView(store.rooms.addToWhitelist(req.params.number, req.body.caller), reveal(req)),
			);

			api.delete('/rooms/:number/whitelist/:caller', { schema: { params: whitelistEntryParams, querystring: revealQuery, response: { 200: roomOut } } }, async (req: FastifyRequest<{ Params: { number: string; caller: string }; Querystring: { revealPin?: 'true' | 'false' } }>) => {
				const { number, caller } = req.params;
				mustRoom(number);
				const room = store.rooms.removeFromWhitelist(number, caller);
				if (!room) {
					throw new WhitelistEntryNotFoundError(number, caller);
				}
				return roomView(room, req.query.revealPin === 'true');
			});

			// Live rooms: participants and moderation.
			api.get('/rooms/:number/participants', { schema: { params: roomParams, querystring: noQuery, response: { 200: { type: 'object', properties: { participants: { type: 'array', items: participantOut } } } } } }, async (req: FastifyRequest<RoomRoute>) => {
				const list = await mustLive(req.params.number).participants(req.params.number);
				return { participants: list.map(participantView) };
			});

			const mute = (muted: boolean) => async (req: FastifyRequest<ParticipantRoute>) => {
				const { number, id } = req.params;
				if (!(await mustLive(number).mute(number, id, muted))) {
					throw new ParticipantNotFoundError(number, id);
				}
				return { id, muted };
			};
			const muteSchema = { schema: { params: participantParams, querystring: noQuery } };
			api.post('/rooms/:number/participants/:id/mute', muteSchema, mute(true));
			api.post('/rooms/:number/participants/:id/unmute', muteSchema, mute(false));

			api.delete('/rooms/:number/participants/:id', { schema: { params: participantParams, querystring: noQuery } }, async (req: FastifyRequest<ParticipantRoute>, reply) => {
				const { number, id } = req.params;
				if (!(await mustLive(number).kick(number, id))) {
					throw new ParticipantNotFoundError(number, id);
				}
				return reply.code(204).send();
			});

			api.post('/rooms/:number/end', { schema: { params: roomParams, querystring: noQuery } }, async (req: FastifyRequest<RoomRoute>) => ({
				number: req.params.number,
				ended: await mustLive(req.params.number).end(req.params.number),
			}));

			const lock = (locked: boolean) => async (req: FastifyRequest<RoomRoute>) => {
				const { number } = req.params;
				if (!(await mustLive(number).lock(number, locked))) {
					throw new RoomNotLiveError(number);
				}
				return { number, locked };
			};
			const lockSchema = { schema: { params: roomParams, querystring: noQuery } };
			api.post('/rooms/:number/lock', lockSchema, lock(true));
			api.post('/rooms/:number/unlock', lockSchema, lock(false));

			// Users.
			api.get('/users', { schema: { querystring: noQuery, response: { 200: { type: 'object', properties: { users: { type: 'array', items: userOut } } } } } }, async () => ({
				users: store.users.list().map(userView),
			}));

			api.post('/users', { schema: { body: userCreateBody, querystring: noQuery, response: { 201: userOut } } }, async (req: FastifyRequest<{ Body: { extension: string; displayName?: string; password: string } }>, reply) => {
				const user = store.users.create(req.body);
				return reply.code(201).header('location', `${API_PREFIX}/users/${encodeURIComponent(user.extension)}`).send(userView(user));
			});

			api.get('/users/:extension', { schema: { params: userParams, querystring: noQuery, response: { 200: userOut } } }, async (req: FastifyRequest<UserRoute>) => {
				const user = store.users.get(req.params.extension);
				if (!user) {
					throw new UserNotFoundError(req.params.extension);
				}
				return userView(user);
			});

			api.patch('/users/:extension', { schema: { params: userParams, body: userPatchBody, querystring: noQuery, response: { 200: userOut } } }, async (req: FastifyRequest<UserRoute & { Body: { displayName?: string; password?: string } }>) =>
				userView(store.users.update(req.params.extension, req.body)),
			);

			api.delete('/users/:extension', { schema: { params: userParams, querystring: noQuery } }, async (req: FastifyRequest<UserRoute>, reply) => {
				store.users.delete(req.params.extension);
				return reply.code(204).send();
			});
		},
		{ prefix: API_PREFIX },
	);

	return app;
}
