export { defaultStorePath, openStore, SCHEMA_VERSION, Store, type StoreOptions } from './store.js';
export { RoomRepository } from './rooms.js';
export { UserRepository } from './users.js';
export { RegistrationRepository } from './registrations.js';
export { migrate, migrations, type Migration } from './migrations.js';
export * from './errors.js';
export * from './types.js';
export {
	CALLER_NUMBER_PATTERN,
	generatePin,
	MAX_PARTICIPANTS_MAX,
	NAME_MAX_LENGTH,
	NUMBER_PATTERN,
	PASSWORD_MAX_LENGTH,
	PIN_LENGTH_MAX,
	PIN_LENGTH_MIN,
	PIN_MAX_LENGTH,
	PIN_PATTERN,
	TEXT_PATTERN,
	WHITELIST_MAX,
} from './validation.js';
