/** Polls `pred` every `everyMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function until(pred: () => boolean, timeoutMs: number, what: string, everyMs = 20): Promise<void> {
	const end = Date.now() + timeoutMs;
	while (!pred()) {
		if (Date.now() > end) {
			throw new Error(`timed out waiting for ${what}`);
		}
		await new Promise((r) => setTimeout(r, everyMs));
	}
}
