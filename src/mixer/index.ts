export {
	MixerHost,
	frameSamplesFor,
	overrunChannel,
	statsChannel,
	type MixerHostEvents,
	type MixerHostOptions,
	type MixerStats,
	type MixerWorkerStatsEntry,
	type ParticipantRings,
} from './host.js';
export { MixerError, type MixerErrorCode } from './errors.js';
export { PcmRing } from './ring-buffer.js';
export { PROTOCOL_VERSION, type MixerWorkerStats, type TickDurationStats } from './protocol.js';
export { loadKernel, loadNativeKernel, saturate16, tsKernel, type MixKernel } from './kernel/index.js';
