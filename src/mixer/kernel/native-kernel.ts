import { createRequire } from 'node:module';
import type { MixKernel } from './kernel.js';

/**
 * Where the native addon lands after `native-mixer/`'s own build. From
 * dist/src/mixer/kernel/ four levels up is the repository root.
 */
const DEFAULT_ADDON_PATH = '../../../../native-mixer/build/Release/native_mixer.node';

interface NativeAddon {
	mix: MixKernel['mix'];
}

/**
 * Loads the native SIMD kernel (N-API). Throws when the addon is missing or
 * does not export `mix`; the caller decides whether that is fatal.
 * `path` is resolved like require() from this module (absolute paths work).
 */
export function loadNativeKernel(path: string = DEFAULT_ADDON_PATH): MixKernel {
	const require = createRequire(import.meta.url);
	const addon = require(path) as Partial<NativeAddon> | null;
	if (!addon || typeof addon.mix !== 'function') {
		throw new TypeError(`native mixer at ${path} does not export mix()`);
	}
	// N-API functions ignore `this`, so the export is used as is: no wrapper call per mix.
	return { name: 'native', mix: addon.mix };
}
