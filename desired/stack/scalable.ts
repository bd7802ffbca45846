// Scalable Loki and Tempo (docs/adr/0017-scalable-loki-tempo.md): at sizes medium and large, with
// S3 object storage, Loki runs its simple scalable targets (write, read, backend) and Tempo its
// scalable single binary, each ring joined over memberlist. Without object storage they stay single
// binaries with one replica (a ring member's data must outlive the member: only a bucket does that).
import type { SizeProfile, TargetSpec } from '../../api/types.js';
import type { StackContext } from './context.js';
import type { Sizing } from './sizing.js';

/** memberlist's gossip port (Loki's and Tempo's default bind_port). */
export const GOSSIP_PORT = 7946;

export const LOKI_TARGETS = ['write', 'read', 'backend'] as const;
export type LokiTarget = (typeof LOKI_TARGETS)[number];

/** The suffixes a component's objects carry after `<stack>-<component>` (wiring.ts reads them). */
export const TARGET_SUFFIXES = [...LOKI_TARGETS, 'memberlist'] as const;

/**
 * The replication factor of a scalable ring. Loki and Tempo write to a quorum of floor(RF/2)+1
 * ingesters: 3 survives one lost ingester, 2 survives none (both must answer), so 3 at both sizes.
 */
export const REPLICATION_FACTOR = 3;

const SCALABLE_SIZES: readonly SizeProfile[] = ['medium', 'large'];

/** Whether the stack's size asks for scalable Loki and Tempo (whatever its storage). */
export const scalableSize = (ctx: StackContext): boolean => SCALABLE_SIZES.includes(ctx.spec.size);

/** Loki and Tempo run scalable: a size that asks for it, and a bucket that outlives every pod. */
export const scalable = (ctx: StackContext): boolean => scalableSize(ctx) && ctx.spec.objectStorage?.s3 !== undefined;

type Row = [replicas: number, cpuReq: string, memReq: string, memLimit: string, storage?: string];
type ScalableWorkload = `loki-${LokiTarget}` | 'tempo';

// Per target; a read pod keeps no state (a Deployment without volume).
const PROFILES: Record<'medium' | 'large', Record<ScalableWorkload, Row>> = {
  medium: {
    'loki-write': [3, '500m', '1Gi', '2Gi', '50Gi'],
    'loki-read': [2, '500m', '1Gi', '2Gi'],
    'loki-backend': [2, '250m', '512Mi', '1Gi', '10Gi'],
    tempo: [3, '500m', '1Gi', '2Gi', '50Gi'],
  },
  large: {
    'loki-write': [3, '1', '4Gi', '8Gi', '200Gi'],
    'loki-read': [3, '1', '2Gi', '4Gi'],
    'loki-backend': [3, '500m', '1Gi', '2Gi', '20Gi'],
    tempo: [3, '1', '4Gi', '8Gi', '200Gi'],
  },
};

function fromRow(row: Row, o: TargetSpec = {}): Sizing {
  const [replicas, cpu, memory, memLimit, storage] = row;
  return {
    replicas: o.replicas ?? replicas,
    resources: {
      requests: { cpu, memory, ...o.resources?.requests },
      limits: { memory: memLimit, ...o.resources?.limits },
    },
    storage: storage === undefined ? undefined : (o.storage?.size ?? storage),
  };
}

const profile = (ctx: StackContext) => PROFILES[ctx.spec.size === 'large' ? 'large' : 'medium'];

/**
 * A Loki target's size: the profile's, under spec.logs.targets.<target>; spec.logs.replicas 0
 * stops every target (as it stops the single binary), and spec.logs.storage sizes the volumes of
 * the targets that have one unless the target names its own.
 */
export function lokiTargetSizing(ctx: StackContext, t: LokiTarget): Sizing {
  const logs = ctx.spec.logs;
  const own = logs?.targets?.[t] ?? {};
  const s = fromRow(profile(ctx)[`loki-${t}`], {
    ...own,
    storage: own.storage ?? logs?.storage,
  });
  return logs?.replicas === 0 ? { ...s, replicas: 0 } : s;
}

/** Scalable Tempo's size: the profile's under spec.traces (replicas, resources, storage). */
export function tempoScalableSizing(ctx: StackContext): Sizing {
  const t = ctx.spec.traces;
  return fromRow(profile(ctx).tempo, { replicas: t?.replicas, resources: t?.resources, storage: t?.storage });
}

/**
 * Why a stack runs Loki or Tempo smaller than its size asks, or undefined: sizes medium and large
 * without spec.objectStorage.s3 keep the single binaries (the stack's ScalingLimited condition).
 */
export function scalingLimited(ctx: StackContext): string | undefined {
  if (!scalableSize(ctx) || scalable(ctx)) return undefined;
  const which = [ctx.on.loki && 'Loki', ctx.on.tempo && 'Tempo'].filter(Boolean);
  if (!which.length) return undefined;
  return `spec.objectStorage.s3 is not set: ${which.join(' and ')} run${which.length === 1 ? 's' : ''} as a single binary with one replica at size ${ctx.spec.size}; set spec.objectStorage.s3 to run ${which.length === 1 ? 'it' : 'them'} scalable`;
}
