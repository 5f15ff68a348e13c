export * from './conference-call.js';
export * from './manager.js';
export * from './party.js';
