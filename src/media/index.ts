/** Public surface of the media layer: RTP legs, their ports and clock, codecs. */
export { MediaLeg } from './leg.js';
export type { MediaLegEvents, MediaLegOptions, RemoteMediaParams } from './leg.js';
export { MediaClock } from './clock.js';
export type { ClockedLeg, MediaClockOptions } from './clock.js';
export { RtpPortAllocator } from './ports.js';
export type { AllocatedPort, RtpPortAllocatorOptions } from './ports.js';
export * from './codecs/index.js';
export * from './rtp/header.js';
export * from './rtp/seq.js';
