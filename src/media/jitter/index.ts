/** Public surface of the jitter buffer: reordering, adaptive delay, concealment. */
export { JitterBuffer, createJitterFrame } from './jitter-buffer.js';
export type { JitterBufferOptions, JitterFrame, JitterPopResult, JitterPushResult, JitterStats } from './jitter-buffer.js';
export { Concealer } from './concealer.js';
export type { ConcealerOptions } from './concealer.js';
