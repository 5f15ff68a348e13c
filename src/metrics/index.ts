import diagnostics_channel from 'node:diagnostics_channel';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import client from 'prom-client';
import { sipMessageChannel, type SipMessageEvent } from '../common/diagnostics.js';
import type { MixerStats } from '../mixer/index.js';

/**
 * Prometheus metrics (prom-client). Gauges are read from the live server on
 * each scrape rather than kept in step on every event, so the call path pays
 * nothing; SIP counters come from a diagnostics channel.
 */
export interface MetricsSource {
	stats(): { calls: number; legs: number; rooms: number; activeRooms: number; participants: number; dialogs: number; rtpPortsInUse: number };
	mixerStats(): Promise<MixerStats | undefined>;
	rtpTotals(): { packetsIn: number; packetsOut: number; packetsLost: number; packetsDropped: number };
}

export class Metrics {
	readonly registry = new client.Registry();
	readonly #sipRequests: client.Counter<'method' | 'direction'>;
	readonly #sipResponses: client.Counter<'code' | 'method' | 'direction'>;
	readonly #loopDelay: IntervalHistogram;
	readonly #onSip: (msg: unknown) => void;
	#closed = false;

	constructor(source: MetricsSource) {
		const r = this.registry;
		client.collectDefaultMetrics({ register: r, prefix: 'confsrv_process_' });
		const gauge = (name: string, help: string, read: () => number): void => {
			new client.Gauge({
				name,
				help,
				registers: [r],
				collect() {
					this.set(read());
				},
			});
		};
		gauge('confsrv_calls', 'Live calls', () => source.stats().calls);
		gauge('confsrv_legs', 'Live media legs', () => source.stats().legs);
		gauge('confsrv_rooms', 'Configured rooms', () => source.stats().rooms);
		gauge('confsrv_rooms_active', 'Rooms with at least one participant', () => source.stats().activeRooms);
		gauge('confsrv_participants', 'Participants in all rooms', () => source.stats().participants);
		gauge('confsrv_sip_dialogs', 'Live SIP dialogs', () => source.stats().dialogs);
		gauge('confsrv_rtp_ports_in_use', 'RTP ports bound', () => source.stats().rtpPortsInUse);
		const rtpCounter = (name: string, help: string, read: () => number): void => {
			new client.Counter({
				name,
				help,
				registers: [r],
				collect() {
					// Totals are monotonic (live legs + legs already closed).
					this.reset();
					this.inc(read());
				},
			});
		};
		rtpCounter('confsrv_rtp_packets_in_total', 'RTP packets received', () => source.rtpTotals().packetsIn);
		rtpCounter('confsrv_rtp_packets_out_total', 'RTP packets sent', () => source.rtpTotals().packetsOut);
		rtpCounter('confsrv_rtp_packets_lost_total', 'RTP packets lost (sequence gaps)', () => source.rtpTotals().packetsLost);
		rtpCounter('confsrv_rtp_packets_dropped_total', 'RTP packets dropped (duplicate, late, wrong payload type)', () => source.rtpTotals().packetsDropped);

		this.#sipRequests = new client.Counter({ name: 'confsrv_sip_requests_total', help: 'SIP requests by method', labelNames: ['method', 'direction'], registers: [r] });
		this.#sipResponses = new client.Counter({ name: 'confsrv_sip_responses_total', help: 'SIP responses by status code', labelNames: ['code', 'method', 'direction'], registers: [r] });
		this.#onSip = (msg: unknown) => {
			const e = msg as SipMessageEvent;
			if (e.method !== undefined) {
				this.#sipRequests.inc({ method: e.method, direction: e.direction });
			} else if (e.status !== undefined) {
				this.#sipResponses.inc({ code: String(e.status), method: e.cseqMethod ?? '', direction: e.direction });
			}
		};
		diagnostics_channel.subscribe(sipMessageChannel.name, this.#onSip);

		this.#loopDelay = monitorEventLoopDelay({ resolution: 10 });
		this.#loopDelay.enable();
		const loop = this.#loopDelay;
		new client.Gauge({
			name: 'confsrv_event_loop_lag_seconds',
			help: 'Main event loop delay (p99 over the last scrape interval)',
			registers: [r],
			collect() {
				this.set(loop.percentile(99) / 1e9);
				loop.reset();
			},
		});

		// Mixer: one scrape asks the workers once; the collectors below share it.
		let pending: Promise<MixerStats | undefined> | undefined;
		const mixer = async (): Promise<MixerStats | undefined> => {
			pending ??= source.mixerStats().finally(() => {
				setImmediate(() => {
					pending = undefined;
				});
			});
			return pending;
		};
		const workerGauge = (name: string, help: string, read: (w: MixerStats['workers'][number]) => number): void => {
			new client.Gauge({
				name,
				help,
				labelNames: ['worker'],
				registers: [r],
				async collect() {
					const s = await mixer();
					this.reset();
					for (const w of s?.workers ?? []) {
						this.set({ worker: String(w.index) }, read(w));
					}
				},
			});
		};
		workerGauge('confsrv_mixer_worker_utilisation', 'Share of the 20 ms frame the mixer tick uses (p50)', (w) => w.tickUs.p50 / 20_000);
		workerGauge('confsrv_mixer_tick_p99_seconds', 'Mixer tick duration p99 over the last ~20 s', (w) => w.tickUs.p99 / 1e6);
		workerGauge('confsrv_mixer_overruns', 'Mixer ticks that overran their frame (cumulative)', (w) => w.overruns);
		workerGauge('confsrv_mixer_rooms', 'Rooms per mixer worker', (w) => w.rooms);
		r.registerMetric(new TickHistogramMetric(mixer) as unknown as client.Metric);
	}

	contentType(): string {
		return this.registry.contentType;
	}

	render(): Promise<string> {
		return this.registry.metrics();
	}

	close(): void {
		if (this.#closed) {
			return;
		}
		this.#closed = true;
		diagnostics_channel.unsubscribe(sipMessageChannel.name, this.#onSip);
		this.#loopDelay.disable();
		this.registry.clear();
	}
}

/**
 * The workers keep the cumulative tick histogram themselves (a bucket
 * increment per tick); this exposes it as a Prometheus histogram.
 */
class TickHistogramMetric {
	readonly name = 'confsrv_mixer_tick_seconds';
	readonly help = 'Mixer tick duration';
	readonly type = 'histogram';
	readonly aggregator = 'sum';
	readonly #read: () => Promise<MixerStats | undefined>;

	constructor(read: () => Promise<MixerStats | undefined>) {
		this.#read = read;
	}

	async get(): Promise<unknown> {
		const s = await this.#read();
		const values: Array<{ value: number; labels: Record<string, string | number>; metricName: string }> = [];
		for (const w of s?.workers ?? []) {
			const h = w.tickHistogram;
			const worker = String(w.index);
			h.boundsUs.forEach((b, i) => {
				values.push({ metricName: `${this.name}_bucket`, labels: { worker, le: b / 1e6 }, value: h.counts[i] ?? 0 });
			});
			values.push({ metricName: `${this.name}_bucket`, labels: { worker, le: '+Inf' }, value: h.count });
			values.push({ metricName: `${this.name}_sum`, labels: { worker }, value: h.sumUs / 1e6 });
			values.push({ metricName: `${this.name}_count`, labels: { worker }, value: h.count });
		}
		return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
	}

	reset(): void {}
}
