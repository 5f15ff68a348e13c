import { TypedEmitter } from './common/events.js';
import { childLogger, type Logger } from './common/logger.js';
import { InvalidStateError } from './common/errors.js';
import { advertisedRtpAddress, advertisedSipAddress, resolveConfig, type Config, type DeepPartial } from './config/index.js';
import { SipUserAgent } from './sip/ua.js';
import { MediaClock, RtpPortAllocator } from './media/index.js';
import { MixerHost, type MixerStats } from './mixer/index.js';
import { RoomRegistry } from './rooms/index.js';
import { CallManager } from './calls/index.js';
import { Metrics } from './metrics/index.js';
import { startOpsHttp, type OpsHttp } from './metrics/http.js';
import { Registrar, RepositoryRegistrationStore } from './calls/registrar.js';
import { defaultStorePath, openStore, type Store } from './store/index.js';
import { InviteAuthPolicy, RequestAuthenticator, UserDirectory } from './calls/users.js';

export interface ServerStats {
	calls: number;
	legs: number;
	rooms: number;
	activeRooms: number;
	participants: number;
	dialogs: number;
	rtpPortsInUse: number;
}

export type ServerEvents = {
	started: [];
	stopped: [];
};

/**
 * Composition root: wires SIP, calls, media, mixer and rooms, and owns them
 * all, so stop() releases every socket, worker and timer.
 */
export class Server extends TypedEmitter<ServerEvents> {
	readonly config: Config;
	readonly #log: Logger;
	#ua: SipUserAgent | undefined;
	#mixer: MixerHost | undefined;
	#rooms: RoomRegistry | undefined;
	#calls: CallManager | undefined;
	#registrar: Registrar | undefined;
	/** The embedded database under config.dataDir (registrations so far). */
	#store: Store | undefined;
	#allocator: RtpPortAllocator | undefined;
	#clock: MediaClock | undefined;
	#metrics: Metrics | undefined;
	#http: OpsHttp | undefined;
	#state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
	/** RTP counters of legs that have already closed (metrics are cumulative). */
	readonly #closedRtp = { packetsIn: 0, packetsOut: 0, packetsLost: 0, packetsDropped: 0 };

	constructor(config: Config) {
		super();
		this.config = config;
		this.#log = childLogger({ mod: 'server' });
	}

	get sipPort(): number {
		if (!this.#ua) {
			throw new InvalidStateError('server not started');
		}
		return this.#ua.port;
	}

	get rooms(): RoomRegistry {
		if (!this.#rooms) {
			throw new InvalidStateError('server not started');
		}
		return this.#rooms;
	}

	/** Port of the /metrics, /health, /ready endpoint (undefined when disabled). */
	get httpPort(): number | undefined {
		return this.#http?.port;
	}

	/** Prometheus registry over this server (created at start). */
	get metrics(): Metrics {
		if (!this.#metrics) {
			throw new InvalidStateError('server not started');
		}
		return this.#metrics;
	}

	get calls(): CallManager {
		if (!this.#calls) {
			throw new InvalidStateError('server not started');
		}
		return this.#calls;
	}

	get registrar(): Registrar {
		if (!this.#registrar) {
			throw new InvalidStateError('server not started');
		}
		return this.#registrar;
	}

	async start(): Promise<void> {
		if (this.#state !== 'new') {
			throw new InvalidStateError(`cannot start a server that is ${this.#state}`);
		}
		this.#state = 'starting';
		const c = this.config;
		try {
			this.#mixer = await MixerHost.create({ workers: c.mixer.workers, frameMs: 20 });
			this.#mixer.on('error', (error) => this.#log.error({ err: error }, 'mixer error'));
			this.#rooms = new RoomRegistry({ mixer: this.#mixer, log: this.#log, defaultSampleRate: c.mixer.sampleRate });
			this.#rooms.load(c.rooms);
			this.#allocator = new RtpPortAllocator({ min: c.rtp.portMin, max: c.rtp.portMax, host: c.rtp.host });
			this.#clock = new MediaClock();
			this.#ua = await SipUserAgent.create({
				host: c.sip.host,
				port: c.sip.port,
				advertisedAddress: advertisedSipAddress(c),
				udp: c.sip.udp,
				tcp: c.sip.tcp,
				t1Ms: c.sip.t1Ms,
				userAgent: c.sip.userAgent,
				rateLimit: c.sip.rateLimit,
			});
			// Users and registrar: REGISTER with 401 digest, INVITEs of users with 407.
			const auth = new RequestAuthenticator({ users: UserDirectory.fromConfig(c.users, c.sip.realm), log: childLogger({ mod: 'auth' }) });
			if (c.dataDir !== undefined) {
				this.#store = openStore(defaultStorePath(c.dataDir), { realm: c.sip.realm });
			}
			this.#registrar = new Registrar({
				auth,
				minExpires: c.registrar.minExpires,
				maxExpires: c.registrar.maxExpires,
				defaultExpires: c.registrar.defaultExpires,
				...(this.#store ? { store: new RepositoryRegistrationStore(this.#store.registrations) } : {}),
			});
			const registrar = this.#registrar;
			this.#ua.handle('REGISTER', (req) => registrar.handleRegister(req));
			const rooms = this.#rooms;
			const invitePolicy = new InviteAuthPolicy({ auth, isRoom: (n) => rooms.byNumber(n) !== undefined, authenticateRoomCalls: c.sip.authenticateRoomCalls });
			this.#ua.setInviteAuthenticator((req) => invitePolicy.authenticateInvite(req));
			this.#calls = new CallManager({
				ua: this.#ua,
				rooms: this.#rooms,
				deps: {
					allocator: this.#allocator,
					clock: this.#clock,
					rtpAddress: advertisedRtpAddress(c),
					rtpTimeoutMs: c.rtp.timeoutSec * 1000,
					log: childLogger({ mod: 'calls' }),
				},
			});
			this.#calls.on('callended', (call) => {
				const leg = call.leg;
				if (leg) {
					this.#closedRtp.packetsIn += leg.packetsIn;
					this.#closedRtp.packetsOut += leg.packetsOut;
					this.#closedRtp.packetsLost += leg.packetsLost;
					this.#closedRtp.packetsDropped += leg.packetsDropped;
				}
			});
			this.#metrics = new Metrics(this);
			if (c.http.enabled) {
				this.#http = await startOpsHttp({ host: c.http.host, port: c.http.port, metrics: this.#metrics, ready: () => this.#state === 'running' });
			}
		} catch (error) {
			await this.#teardown();
			this.#state = 'stopped';
			throw error;
		}
		this.#state = 'running';
		this.#log.info(
			{ sip: { host: c.sip.host, port: this.#ua.port, udp: c.sip.udp, tcp: c.sip.tcp }, rtp: `${c.rtp.portMin}-${c.rtp.portMax}`, rooms: c.rooms.map((r) => r.number) },
			'server listening',
		);
		this.safeEmit('started');
	}

	stats(): ServerStats {
		const rooms = this.#rooms?.list() ?? [];
		return {
			calls: this.#calls?.size ?? 0,
			legs: this.#calls?.list().filter((c) => c.leg).length ?? 0,
			rooms: rooms.length,
			activeRooms: rooms.filter((r) => r.size > 0).length,
			participants: rooms.reduce((n, r) => n + r.size, 0),
			dialogs: this.#ua?.dialogCount ?? 0,
			rtpPortsInUse: this.#allocator?.inUse ?? 0,
		};
	}

	/** Per-worker mixer figures (tick percentiles, overruns); undefined before start. */
	async mixerStats(): Promise<MixerStats | undefined> {
		if (!this.#mixer || this.#mixer.closed) {
			return undefined;
		}
		return this.#mixer.getStats();
	}

	/** Cumulative RTP counters over all legs, live and closed. */
	rtpTotals(): { packetsIn: number; packetsOut: number; packetsLost: number; packetsDropped: number } {
		const t = { ...this.#closedRtp };
		for (const call of this.#calls?.list() ?? []) {
			const leg = call.leg;
			if (leg) {
				t.packetsIn += leg.packetsIn;
				t.packetsOut += leg.packetsOut;
				t.packetsLost += leg.packetsLost;
				t.packetsDropped += leg.packetsDropped;
			}
		}
		return t;
	}

	/** Hangs up every call with BYE, then stops workers and closes sockets. */
	async stop(): Promise<void> {
		if (this.#state === 'stopped' || this.#state === 'stopping') {
			return;
		}
		this.#state = 'stopping';
		this.#log.info({ calls: this.#calls?.size ?? 0 }, 'stopping');
		await this.#teardown();
		this.#state = 'stopped';
		this.#log.info('stopped');
		this.safeEmit('stopped');
	}

	async #teardown(): Promise<void> {
		if (this.#calls) {
			// BYEs go out at once; waiting for every 200 is bounded so a dead
			// peer cannot hold shutdown for 64*T1.
			let timer: NodeJS.Timeout | undefined;
			await Promise.race([
				this.#calls.close(),
				new Promise<void>((resolve) => {
					timer = setTimeout(resolve, 2000);
				}),
			]);
			clearTimeout(timer);
		}
		await this.#ua?.close();
		this.#registrar?.close();
		this.#store?.close();
		await this.#rooms?.close();
		this.#clock?.close();
		await this.#mixer?.close();
		await this.#http?.close();
		this.#metrics?.close();
	}
}

/** Creates a server from embedded defaults overlaid with `config`. */
export async function createServer(config: DeepPartial<Config> = {}): Promise<Server> {
	return new Server(resolveConfig(config));
}
