export * from './negotiate.js';
