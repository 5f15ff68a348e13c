export { createServer, Server, type ServerStats } from './server.js';
export { resolveConfig, defaultConfig, type Config, type RoomConfig } from './config/index.js';
export * from './common/errors.js';
