export * from './room.js';
export * from './registry.js';
