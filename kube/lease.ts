// Leader election through a coordination.k8s.io Lease, with client-go's semantics (client-node has
// none): try every retryPeriod; take a lease that is absent, ours, or unrenewed for longer than its
// duration (measured on our own clock from when we last saw it change, never by comparing clocks);
// step down when a renewal has not succeeded within the renew deadline; release on stop.
import * as k8s from '@kubernetes/client-node';
import { apiConfiguration, toKubeError } from './client.js';
import { KubeError } from './types.js';

export interface ElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading(): void;
  onStoppedLeading(): void;
  onError?(err: Error): void;
  now?: () => number;
}

export interface LeaseStore {
  read(): Promise<k8s.V1Lease | undefined>;
  create(lease: k8s.V1Lease): Promise<k8s.V1Lease>;
  replace(lease: k8s.V1Lease): Promise<k8s.V1Lease>;
}

export function leaseStore(kc: k8s.KubeConfig, namespace: string, name: string): LeaseStore {
  // Each call has its own short timeout: a hung renewal must not outlive the renew deadline.
  const api = new k8s.CoordinationV1Api(apiConfiguration(kc, 5000));
  return {
    async read() {
      try {
        return await api.readNamespacedLease({ name, namespace });
      } catch (err) {
        const e = toKubeError(err, `read Lease ${namespace}/${name}`);
        if (e instanceof KubeError && e.notFound) return undefined;
        throw e;
      }
    },
    async create(lease) {
      try {
        return await api.createNamespacedLease({ namespace, body: lease });
      } catch (err) {
        throw toKubeError(err, `create Lease ${namespace}/${name}`);
      }
    },
    async replace(lease) {
      try {
        return await api.replaceNamespacedLease({ name, namespace, body: lease });
      } catch (err) {
        throw toKubeError(err, `update Lease ${namespace}/${name}`);
      }
    },
  };
}

/** The apiserver parses MicroTime with exactly six fractional digits; Date#toISOString gives three. */
export function microTime(ms: number): k8s.V1MicroTime {
  return new k8s.V1MicroTime(ms);
}

export class LeaderElector {
  private leading = false;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private lastRenew = 0;
  private observed: { holder?: string; renew?: string; at: number } = { at: 0 };
  private readonly duration: number;
  private readonly deadline: number;
  private readonly retry: number;
  private readonly now: () => number;

  constructor(
    private readonly store: LeaseStore,
    private readonly opts: ElectionOptions,
  ) {
    this.duration = opts.leaseDurationSeconds ?? 15;
    this.deadline = opts.renewDeadlineMs ?? 10_000;
    this.retry = opts.retryPeriodMs ?? 2000;
    this.now = opts.now ?? Date.now;
    if (this.deadline >= this.duration * 1000)
      throw new Error('renew deadline must be shorter than the lease duration');
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops trying; a leader releases the lease so that another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.store.read();
      if (lease?.spec?.holderIdentity === this.opts.identity) {
        lease.spec.holderIdentity = undefined;
        lease.spec.leaseDurationSeconds = 1;
        lease.spec.renewTime = microTime(this.now());
        await this.store.replace(lease);
      }
    } catch (err) {
      this.opts.onError?.(err as Error);
    }
    this.opts.onStoppedLeading();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    try {
      await this.tryAcquireOrRenew();
    } catch (err) {
      this.opts.onError?.(err as Error);
    }
    if (this.leading && this.now() - this.lastRenew > this.deadline) {
      // We cannot prove we still hold the lease: another replica may take it any moment now.
      this.leading = false;
      this.opts.onStoppedLeading();
    }
    this.schedule(this.retry);
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const now = this.now();
    const lease = await this.store.read();
    const spec = {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: this.duration,
      renewTime: microTime(now),
    };
    if (!lease) {
      try {
        await this.store.create({
          metadata: { name: this.opts.name, namespace: this.opts.namespace },
          spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 },
        });
      } catch (err) {
        if (err instanceof KubeError && err.conflict) return; // someone else created it first
        throw err;
      }
      return this.acquired(now);
    }
    const s = lease.spec ?? {};
    const renew = s.renewTime
      ? String(s.renewTime instanceof Date ? s.renewTime.toISOString() : s.renewTime)
      : undefined;
    if (s.holderIdentity !== this.observed.holder || renew !== this.observed.renew) {
      this.observed = { holder: s.holderIdentity, renew, at: now };
    }
    const mine = s.holderIdentity === this.opts.identity;
    const expired = !s.holderIdentity || now - this.observed.at > (s.leaseDurationSeconds ?? this.duration) * 1000;
    if (!mine && !expired) return;
    lease.spec = {
      ...s,
      ...spec,
      acquireTime: mine && s.acquireTime ? s.acquireTime : microTime(now),
      leaseTransitions: mine ? (s.leaseTransitions ?? 0) : (s.leaseTransitions ?? 0) + 1,
    };
    try {
      await this.store.replace(lease); // carries the read resourceVersion: a 409 means we lost a race
    } catch (err) {
      if (err instanceof KubeError && err.conflict) return;
      throw err;
    }
    this.acquired(now);
  }

  private acquired(now: number): void {
    this.lastRenew = now;
    if (!this.leading) {
      this.leading = true;
      this.opts.onStartedLeading();
    }
  }
}
