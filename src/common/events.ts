import { EventEmitter } from 'node:events';
import { logger } from './logger.js';

/**
 * An EventEmitter whose event names and argument tuples come from a map type
 * (mediasoup's EnhancedEventEmitter). `safeEmit` isolates the emitter from a
 * throwing listener so one bad subscriber cannot break a room or a call.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EventMap = Record<string, any[]>;

export class TypedEmitter<E extends EventMap> extends EventEmitter {
	override emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
		return super.emit(event, ...args);
	}

	safeEmit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
		try {
			return super.emit(event, ...args);
		} catch (error) {
			logger.error({ err: error, event }, 'event listener threw');
			return true;
		}
	}

	override on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
		return super.on(event, listener as (...args: unknown[]) => void);
	}

	override once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
		return super.once(event, listener as (...args: unknown[]) => void);
	}

	override off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
		return super.off(event, listener as (...args: unknown[]) => void);
	}
}
