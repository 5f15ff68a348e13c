/**
 * Entry of a forked load-generator process: answers the orchestrator's
 * commands (see handle.ts) over the IPC channel.
 */
import { LoadGenerator } from './generator.js';
import type { CommandMessage, ReplyMessage } from './handle.js';
import type { Attach, GeneratorInit } from './types.js';

let gen: LoadGenerator | null = null;

function reply(m: ReplyMessage): void {
	process.send?.(m);
}

async function handle(m: CommandMessage): Promise<unknown> {
	if (m.cmd === 'init') {
		gen = await LoadGenerator.create(m.arg as GeneratorInit);
		return undefined;
	}
	if (!gen) {
		throw new Error('generator not initialised');
	}
	switch (m.cmd) {
		case 'ports':
			return gen.ports();
		case 'callAll':
			return gen.callAll();
		case 'attach':
			gen.attach(m.arg as Attach[]);
			return undefined;
		case 'reset':
			gen.reset();
			return undefined;
		case 'progress':
			return gen.progress();
		case 'collect':
			return gen.collect();
		case 'hangup':
			return gen.hangup();
		case 'stopMedia':
			gen.stopMedia();
			return undefined;
		case 'close':
			gen.close();
			setTimeout(() => process.exit(0), 50);
			return undefined;
		default:
			throw new Error(`unknown command ${String(m.cmd)}`);
	}
}

process.on('message', (m: CommandMessage) => {
	handle(m).then(
		(result) => reply(result === undefined ? { id: m.id, ok: true } : { id: m.id, ok: true, result }),
		(error: unknown) => reply({ id: m.id, ok: false, error: error instanceof Error ? error.message : String(error) }),
	);
});

// The orchestrator went away: do not linger.
process.on('disconnect', () => {
	gen?.close();
	process.exit(0);
});
