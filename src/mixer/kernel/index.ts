import { ConfigError } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import type { MixKernel } from './kernel.js';
import { loadNativeKernel } from './native-kernel.js';
import { tsKernel } from './ts-kernel.js';

export type { MixKernel } from './kernel.js';
export { saturate16 } from './kernel.js';
export { tsKernel } from './ts-kernel.js';
export { loadNativeKernel } from './native-kernel.js';

/**
 * Picks the mix kernel, like mediasoup's MEDIASOUP_WORKER_BIN override:
 *
 *   CONFSRV_MIXER_KERNEL unset  → native when it loads, else TypeScript
 *   CONFSRV_MIXER_KERNEL=ts     → TypeScript, the addon is not even loaded
 *   CONFSRV_MIXER_KERNEL=native → native, or throw (a deployment that asks
 *                                 for native should fail loudly, not slow down)
 *   CONFSRV_MIXER_NATIVE_BIN    → path of the .node file, instead of native-mixer/build
 */
export function loadKernel(env: NodeJS.ProcessEnv = process.env): MixKernel {
	const want = env['CONFSRV_MIXER_KERNEL'] ?? '';
	const bin = env['CONFSRV_MIXER_NATIVE_BIN'];
	if (want === 'ts') {
		return tsKernel;
	}
	if (want !== '' && want !== 'native' && want !== 'auto') {
		throw new ConfigError(`CONFSRV_MIXER_KERNEL must be ts, native or auto, not ${JSON.stringify(want)}`);
	}
	try {
		return bin ? loadNativeKernel(bin) : loadNativeKernel();
	} catch (error) {
		if (want === 'native') {
			throw new ConfigError(`CONFSRV_MIXER_KERNEL=native but the native mixer did not load: ${String(error)}`);
		}
		logger.debug({ err: error }, 'native mixer not loaded, using the TypeScript kernel');
		return tsKernel;
	}
}
