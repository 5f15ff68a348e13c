/**
 * Request and response schemas, one table per route (fastify's ajv). The
 * patterns and limits are the store's own, so the 400 a client gets names the
 * same rule the store would enforce. Unknown fields are refused everywhere.
 */
import {
	ACCESS_MODES,
	CALLER_NUMBER_PATTERN,
	LANGUAGES,
	MAX_PARTICIPANTS_MAX,
	NAME_MAX_LENGTH,
	NUMBER_PATTERN,
	PASSWORD_MAX_LENGTH,
	PIN_LENGTH_MAX,
	PIN_LENGTH_MIN,
	PIN_MAX_LENGTH,
	PIN_PATTERN,
	SAMPLE_RATES,
	TEXT_PATTERN,
	WHITELIST_MAX,
} from '../store/index.js';

const number = { type: 'string', pattern: NUMBER_PATTERN, description: 'room number or extension: 1-32 of 0-9 A-Z a-z _ . + -' } as const;
const callerNumber = { type: 'string', pattern: CALLER_NUMBER_PATTERN, description: 'caller number: optional + and 1-20 digits' } as const;
const text = (minLength: number) => ({ type: 'string', minLength, maxLength: NAME_MAX_LENGTH, pattern: TEXT_PATTERN }) as const;
const dateTime = { type: 'string', format: 'date-time' } as const;

const roomFields = {
	number,
	name: text(1),
	language: { type: 'string', enum: [...LANGUAGES] },
	sampleRate: { type: 'integer', enum: [...SAMPLE_RATES] },
	accessMode: { type: 'string', enum: [...ACCESS_MODES] },
	pin: { type: 'string', pattern: PIN_PATTERN, minLength: 1, maxLength: PIN_MAX_LENGTH, description: 'digits only' },
	pinLength: { type: ['integer', 'null'], minimum: PIN_LENGTH_MIN, maximum: PIN_LENGTH_MAX },
	whitelist: { type: 'array', items: callerNumber, maxItems: WHITELIST_MAX },
	maxParticipants: { type: ['integer', 'null'], minimum: 1, maximum: MAX_PARTICIPANTS_MAX },
	musicOnHold: { type: 'boolean' },
	announceNames: { type: 'boolean' },
	owner: { anyOf: [number, { type: 'null' }] },
} as const;

export const roomCreateBody = {
	type: 'object',
	required: ['number', 'name'],
	additionalProperties: false,
	properties: roomFields,
} as const;

export const roomPatchBody = {
	type: 'object',
	minProperties: 1,
	additionalProperties: false,
	properties: roomFields,
} as const;

export const whitelistAddBody = {
	type: 'object',
	required: ['caller'],
	additionalProperties: false,
	properties: { caller: callerNumber },
} as const;

export const userCreateBody = {
	type: 'object',
	required: ['extension', 'password'],
	additionalProperties: false,
	properties: {
		extension: number,
		displayName: text(0),
		password: { type: 'string', minLength: 1, maxLength: PASSWORD_MAX_LENGTH },
	},
} as const;

export const userPatchBody = {
	type: 'object',
	minProperties: 1,
	additionalProperties: false,
	properties: {
		displayName: text(0),
		password: { type: 'string', minLength: 1, maxLength: PASSWORD_MAX_LENGTH },
	},
} as const;

export const roomParams = {
	type: 'object',
	required: ['number'],
	additionalProperties: false,
	properties: { number },
} as const;

export const userParams = {
	type: 'object',
	required: ['extension'],
	additionalProperties: false,
	properties: { extension: number },
} as const;

export const participantParams = {
	type: 'object',
	required: ['number', 'id'],
	additionalProperties: false,
	properties: { number, id: { type: 'string', minLength: 1, maxLength: 100 } },
} as const;

export const whitelistEntryParams = {
	type: 'object',
	required: ['number', 'caller'],
	additionalProperties: false,
	properties: { number, caller: callerNumber },
} as const;

/** `?revealPin=true` shows the PIN; anything else (or nothing) masks it. */
export const revealQuery = {
	type: 'object',
	additionalProperties: false,
	properties: { revealPin: { type: 'string', enum: ['true', 'false'] } },
} as const;

export const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

export const roomOut = {
	type: 'object',
	required: ['number', 'name', 'language', 'sampleRate', 'accessMode', 'accessControl', 'pin', 'pinLength', 'whitelist', 'maxParticipants', 'musicOnHold', 'announceNames', 'owner', 'createdAt', 'updatedAt'],
	properties: {
		number: { type: 'string' },
		name: { type: 'string' },
		language: { type: 'string' },
		sampleRate: { type: 'integer' },
		accessMode: { type: 'string' },
		accessControl: { type: 'boolean' },
		pin: { type: 'string' },
		pinLength: { type: ['integer', 'null'] },
		whitelist: { type: 'array', items: { type: 'string' } },
		maxParticipants: { type: ['integer', 'null'] },
		musicOnHold: { type: 'boolean' },
		announceNames: { type: 'boolean' },
		owner: { type: ['string', 'null'] },
		createdAt: dateTime,
		updatedAt: dateTime,
	},
} as const;

export const userOut = {
	type: 'object',
	required: ['extension', 'displayName', 'createdAt', 'updatedAt'],
	properties: {
		extension: { type: 'string' },
		displayName: { type: 'string' },
		createdAt: dateTime,
		updatedAt: dateTime,
	},
} as const;

export const participantOut = {
	type: 'object',
	required: ['id', 'displayName', 'callerId', 'joinedAt', 'talking', 'muted'],
	properties: {
		id: { type: 'string' },
		displayName: { type: 'string' },
		callerId: { type: ['string', 'null'] },
		joinedAt: dateTime,
		talking: { type: 'boolean' },
		muted: { type: 'boolean' },
	},
} as const;
