export { API_PREFIX, createApi, type ApiOptions } from './api.js';
export * from './errors.js';
export type { LiveView, ParticipantView } from './live.js';
export { PIN_MASK } from './views.js';
