/**
 * A one-line progress bar on stderr (redrawn in place on a terminal, one
 * line every few seconds otherwise).
 */
import type { ProgressInfo } from '../run.js';

export class ProgressBar {
	readonly #out: NodeJS.WriteStream;
	readonly #tty: boolean;
	#lastLine = 0;

	constructor(out: NodeJS.WriteStream = process.stderr) {
		this.#out = out;
		this.#tty = out.isTTY === true;
	}

	update(p: ProgressInfo): void {
		const width = 24;
		const filled = Math.round(Math.max(0, Math.min(1, p.fraction)) * width);
		const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
		const parts = [
			p.target ?? '',
			p.step !== undefined ? `step ${p.step + 1}` : '',
			`${p.participants} participants`,
			`${p.phase.padEnd(9)} ${bar} ${(p.fraction * 100).toFixed(0).padStart(3)}%`,
			p.phase === 'calling' || p.phase === 'warmup' || p.phase === 'measuring' ? `up ${p.up}${p.failed ? ` failed ${p.failed}` : ''}` : '',
			p.phase === 'measuring' ? `loss ${(p.lossRatio * 100).toFixed(2)}%` : '',
			p.serverCpuCores !== null ? `server cpu ${(p.serverCpuCores * 100).toFixed(0)}%` : '',
		].filter(Boolean);
		const line = parts.join(' │ ');
		if (this.#tty) {
			this.#out.write(`\r\x1b[K${line}`);
			if (p.phase === 'done') {
				this.#out.write('\n');
			}
		} else if (p.phase === 'done' || Date.now() - this.#lastLine > 3000) {
			this.#lastLine = Date.now();
			this.#out.write(`${line}\n`);
		}
	}

	done(): void {
		if (this.#tty) {
			this.#out.write('\r\x1b[K');
		}
	}
}
