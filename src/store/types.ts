/**
 * What the store keeps, as the rest of the server sees it. Rows never leave
 * this folder: repositories map them to these frozen records.
 */

export const LANGUAGES = ['en', 'de', 'ru', 'it'] as const;
/** Language of a room's prompts. */
export type Language = (typeof LANGUAGES)[number];

export const SAMPLE_RATES = [8000, 16000, 48000] as const;
/** A room's mix rate in Hz. */
export type SampleRate = (typeof SAMPLE_RATES)[number];

export const ACCESS_MODES = ['none', 'pin', 'whitelist'] as const;
/** One access-control mode per room. */
export type AccessMode = (typeof ACCESS_MODES)[number];

export const TRANSPORTS = ['udp', 'tcp', 'tls', 'ws', 'wss'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export interface RoomRecord {
	readonly id: number;
	/** The number callers dial; unique across rooms and users' extensions. */
	readonly number: string;
	readonly name: string;
	readonly language: Language;
	readonly sampleRate: SampleRate;
	readonly accessMode: AccessMode;
	/**
	 * Digits only. Always set (generated when the room is created), used only
	 * when accessMode is 'pin'. Never log it; the API masks it.
	 */
	readonly pin: string;
	/** Required PIN length (4-10), or null for any length of at least one digit. */
	readonly pinLength: number | null;
	/** Caller numbers let in when accessMode is 'whitelist'. */
	readonly whitelist: readonly string[];
	/** A cap of N admits N; null is unlimited. */
	readonly maxParticipants: number | null;
	/** The first participant hears music on hold until a second joins. */
	readonly musicOnHold: boolean;
	/** Callers record their name, announced on join and leave. */
	readonly announceNames: boolean;
	/** The owning user's extension (the room's admin), or null. */
	readonly owner: string | null;
	readonly createdAt: Date;
	readonly updatedAt: Date;
}

/** For RoomRepository.create: everything but number and name has a default. */
export interface RoomCreate {
	number: string;
	name: string;
	/** Default 'en'. */
	language?: Language;
	/** Default: the store's defaultSampleRate (16000). */
	sampleRate?: SampleRate;
	/** Default 'none'. */
	accessMode?: AccessMode;
	/** Generated when absent. */
	pin?: string;
	pinLength?: number | null;
	whitelist?: readonly string[];
	maxParticipants?: number | null;
	/** Default true. */
	musicOnHold?: boolean;
	/** Default false. */
	announceNames?: boolean;
	owner?: string | null;
}

/**
 * For RoomRepository.update: absent keys keep their value. `whitelist`
 * replaces the whole list. When pinLength changes and the current PIN no
 * longer fits (and no new pin is given), a new PIN is generated.
 */
export type RoomPatch = { [K in keyof RoomCreate]?: RoomCreate[K] };

export interface UserRecord {
	readonly id: number;
	/** The number the user registers as and is called at (the AOR user part). */
	readonly extension: string;
	readonly displayName: string;
	/** Realm the HA1 hashes were made for; they are useless in any other. */
	readonly realm: string;
	/** H(extension:realm:password), lower-case hex. The password itself is never kept. */
	readonly ha1: { readonly md5: string; readonly sha256: string };
	readonly createdAt: Date;
	readonly updatedAt: Date;
}

/**
 * For UserRepository.create: a password (hashed to HA1 for the store's realm,
 * then dropped), or HA1 hashes made elsewhere for that realm (a resolved
 * configuration). displayName defaults to ''.
 */
export type UserCreate =
	| { extension: string; displayName?: string; password: string }
	| { extension: string; displayName?: string; ha1: { md5: string; sha256: string } };

export interface UserPatch {
	displayName?: string;
	password?: string;
}

/** One registered contact of an address of record (RFC 3261 §10). */
export interface RegistrationRecord {
	/** Canonical AOR, e.g. `sip:1001@example.com`. */
	readonly aor: string;
	/** The Contact URI. (aor, contact) is the key. */
	readonly contact: string;
	/** Where the REGISTER came from: requests to the contact go back there. */
	readonly source: { readonly address: string; readonly port: number; readonly transport: Transport };
	readonly expiresAt: Date;
	readonly callId: string;
	readonly cseq: number;
	/** Contact preference 0-1, or null when the contact gave none. */
	readonly q: number | null;
	readonly updatedAt: Date;
}

export interface RegistrationUpsert {
	aor: string;
	contact: string;
	source: { address: string; port: number; transport: Transport };
	expiresAt: Date;
	callId: string;
	cseq: number;
	q?: number | null;
}

/**
 * Change events, emitted after the write has committed, so the live room
 * registry and the user directory can follow without a restart.
 */
export type StoreEvents = {
	roomcreated: [room: RoomRecord];
	/** `previous` is how it was: its number differs when the room was renumbered. */
	roomupdated: [room: RoomRecord, previous: RoomRecord];
	roomdeleted: [room: RoomRecord];
	usercreated: [user: UserRecord];
	userupdated: [user: UserRecord, previous: UserRecord];
	userdeleted: [user: UserRecord];
};

/** Whether a room checks callers before letting them in (the status the API shows). */
export function hasAccessControl(room: Pick<RoomRecord, 'accessMode'>): boolean {
	return room.accessMode !== 'none';
}
