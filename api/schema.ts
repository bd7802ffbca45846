// JSON Schemas for the v1alpha1 API. ajv's JSONSchemaType checks each one against its TypeScript
// type at compile time; crd.ts turns them into the CRDs' openAPIV3Schema and validate.ts runs them
// offline. Cross-field rules live in rules.ts (CEL for the API server, a predicate for ajv's side).
import type { JSONSchemaType } from 'ajv';
import { DATADOG_SITES } from '../conventions/index.js';
import { DURATION_PATTERN } from '../lib/durations.js';
import type {
  AlertTier,
  ComponentStatus,
  Condition,
  GrafanaDatabaseSpec,
  LabelSelector,
  LocalObjectRef,
  LokiTargetsSpec,
  ObservabilityStackSpec,
  ObservabilityStackStatus,
  QueryBasicAuth,
  RemoteWriteSpec,
  ResourceList,
  ResourceRequirements,
  SecretKeyRef,
  SLOSpec,
  SLOStatus,
  StorageSpec,
  TargetSpec,
  TargetStatus,
  ThanosSpec,
} from './types.js';
import { SIZE_PROFILES } from './types.js';

/** A Prometheus duration: one or more number+unit pairs, e.g. 15d, 1h30m. Never negative. */
export { DURATION_PATTERN };
/** A non-negative Kubernetes quantity, e.g. 500m, 1Gi, 50Gi. */
export const QUANTITY_PATTERN = '^(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE])?$';
/** An SLO window: whole days or weeks (28d, 30d, 4w). */
export const SLO_WINDOW_PATTERN = '^[1-9][0-9]*(d|w)$';
const DNS_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const LABEL_NAME_PATTERN = '^[a-zA-Z_][a-zA-Z0-9_]*$';
/** A Kubernetes label key: an optional DNS-subdomain prefix and a name. */
const K8S_LABEL_KEY_PATTERN = '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$';

const resourceList: JSONSchemaType<ResourceList> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    cpu: { type: 'string', nullable: true, pattern: QUANTITY_PATTERN },
    memory: { type: 'string', nullable: true, pattern: QUANTITY_PATTERN },
  },
};
const resources: JSONSchemaType<ResourceRequirements> = {
  type: 'object',
  description: 'Overrides the requests and limits of the size profile.',
  additionalProperties: false,
  properties: {
    requests: { ...resourceList, nullable: true },
    limits: { ...resourceList, nullable: true },
  },
};
const localRef: JSONSchemaType<LocalObjectRef> = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 253, pattern: DNS_NAME_PATTERN } },
};
/** spec.metrics.basicAuth and spec.alerting.basicAuth (docs/adr/0020-basic-auth-on-query-apis.md). */
const queryBasicAuth = (what: string, secret: string): JSONSchemaType<QueryBasicAuth> => ({
  type: 'object',
  additionalProperties: false,
  required: ['enabled'],
  description: `Basic auth on ${what}; off by default.`,
  properties: {
    enabled: { type: 'boolean', default: false },
    secretRef: {
      ...localRef,
      nullable: true,
      description: `A Secret with username, password and authorization (Basic base64(username:password)); ${secret} is generated when absent.`,
    },
  },
});
const secretKeyRef: JSONSchemaType<SecretKeyRef> = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'key'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 253, pattern: DNS_NAME_PATTERN },
    key: { type: 'string', minLength: 1 },
  },
};
const storage: JSONSchemaType<StorageSpec> = {
  type: 'object',
  description: 'PersistentVolumeClaim settings; the size profile sets the default size.',
  additionalProperties: false,
  properties: {
    size: { type: 'string', nullable: true, pattern: QUANTITY_PATTERN },
    storageClassName: { type: 'string', nullable: true },
  },
};

/** The fields every component has; spread into each component schema. */
function componentProps(defaultEnabled: boolean) {
  return {
    enabled: { type: 'boolean', default: defaultEnabled },
    image: { type: 'string', nullable: true, minLength: 1, description: 'Overrides the pinned image.' },
    replicas: { type: 'integer', nullable: true, minimum: 0, maximum: 100 },
    resources: { ...resources, nullable: true },
  } as const;
}
const retention = (def: string, what: string) =>
  ({
    type: 'string',
    default: def,
    pattern: DURATION_PATTERN,
    description: `How long ${what} are kept, e.g. ${def}.`,
  }) as const;
const stringMap = { type: 'object', nullable: true, required: [], additionalProperties: { type: 'string' } } as const;

/** metav1.LabelSelector (NetworkPolicy peers). */
const labelSelector: JSONSchemaType<LabelSelector> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    matchLabels: { ...stringMap, maxProperties: 20 },
    matchExpressions: {
      type: 'array',
      nullable: true,
      maxItems: 20,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'operator'],
        properties: {
          key: { type: 'string', minLength: 1, maxLength: 317, pattern: K8S_LABEL_KEY_PATTERN },
          operator: { type: 'string', enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
          values: { type: 'array', nullable: true, maxItems: 50, items: { type: 'string', maxLength: 63 } },
        },
      },
    },
  },
};

/** A Secret key reference with every string bounded (remote write credentials). */
const boundedSecretKeyRef: JSONSchemaType<SecretKeyRef> = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'key'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 253, pattern: DNS_NAME_PATTERN },
    key: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[-._a-zA-Z0-9]+$' },
  },
};

/** spec.metrics.thanos: the sidecars' and querier's image and sizes (an HA pair only). */
const thanos: JSONSchemaType<ThanosSpec> = {
  type: 'object',
  additionalProperties: false,
  description:
    'With two or more Prometheus replicas (from size medium, or spec.metrics.replicas): a Thanos sidecar beside each and a querier that deduplicates them.',
  properties: {
    image: { type: 'string', nullable: true, minLength: 1, maxLength: 512, description: 'Overrides the pinned image.' },
    query: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      properties: {
        replicas: { type: 'integer', nullable: true, minimum: 1, maximum: 10 },
        resources: { ...resources, nullable: true },
      },
    },
    sidecar: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      properties: { resources: { ...resources, nullable: true } },
    },
  },
};

/** spec.metrics.remoteWrite[*]: Prometheus's remote_write, credentials from Secrets. */
const remoteWrite: JSONSchemaType<RemoteWriteSpec> = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: { type: 'string', minLength: 8, maxLength: 2048, pattern: '^https?://[^\\s]+$' },
    name: {
      type: 'string',
      nullable: true,
      minLength: 1,
      maxLength: 63,
      pattern: DNS_NAME_PATTERN,
      description: "Prometheus's remote_name label on this queue's metrics.",
    },
    basicAuth: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: ['usernameSecretRef', 'passwordSecretRef'],
      properties: { usernameSecretRef: boundedSecretKeyRef, passwordSecretRef: boundedSecretKeyRef },
    },
    bearerTokenSecretRef: { ...boundedSecretKeyRef, nullable: true },
    queue: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      description: "Prometheus's queue_config; its defaults where absent.",
      properties: {
        capacity: { type: 'integer', nullable: true, minimum: 1, maximum: 1_000_000 },
        minShards: { type: 'integer', nullable: true, minimum: 1, maximum: 1000 },
        maxShards: { type: 'integer', nullable: true, minimum: 1, maximum: 1000 },
        maxSamplesPerSend: { type: 'integer', nullable: true, minimum: 1, maximum: 100_000 },
        batchSendDeadline: { type: 'string', nullable: true, maxLength: 32, pattern: DURATION_PATTERN },
      },
    },
  },
};

// ---- Scalable Loki and Tempo, Grafana's external database (issue 11; docs/adr/0017-scalable-loki-tempo.md)
const targetSpec: JSONSchemaType<TargetSpec> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    replicas: { type: 'integer', nullable: true, minimum: 0, maximum: 100 },
    resources: { ...resources, nullable: true },
    storage: { ...storage, nullable: true },
  },
};
const lokiTargets: JSONSchemaType<LokiTargetsSpec> = {
  type: 'object',
  additionalProperties: false,
  description:
    'Per-target replicas, resources and storage of scalable Loki (sizes medium and large with spec.objectStorage.s3).',
  properties: {
    write: { ...targetSpec, nullable: true, description: 'Distributors and ingesters (a StatefulSet).' },
    read: { ...targetSpec, nullable: true, description: 'Query frontends and queriers (a Deployment).' },
    backend: {
      ...targetSpec,
      nullable: true,
      description: 'Compactor (retention), query scheduler, index gateway and ruler (a StatefulSet).',
    },
  },
};
const grafanaDatabase: JSONSchemaType<GrafanaDatabaseSpec> = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'host', 'name', 'user', 'passwordSecretRef'],
  description: "An external database for Grafana's state (users, dashboards, sessions); needed for replicas > 1.",
  properties: {
    type: { type: 'string', enum: ['postgres', 'mysql'] },
    host: { type: 'string', minLength: 1, pattern: '^[^\\s:/]+(:[0-9]{1,5})?$', description: 'host or host:port' },
    name: { type: 'string', minLength: 1, maxLength: 63 },
    user: { type: 'string', minLength: 1, maxLength: 63 },
    passwordSecretRef: secretKeyRef,
  },
};
// ---- end of issue 11's scalable block

export const stackSpecSchema: JSONSchemaType<ObservabilityStackSpec> = {
  type: 'object',
  additionalProperties: false,
  required: ['environment', 'size'],
  properties: {
    environment: {
      type: 'string',
      minLength: 1,
      maxLength: 63,
      default: 'dev',
      description: 'Set as deployment.environment on all telemetry.',
    },
    size: {
      type: 'string',
      enum: [...SIZE_PROFILES],
      default: 'small',
      description: 'Replicas, resources and storage of every component.',
    },
    collector: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: ['enabled', 'mode'],
      description: 'The OpenTelemetry Collector that receives OTLP.',
      properties: {
        ...componentProps(true),
        mode: {
          type: 'string',
          enum: ['deployment', 'daemonset'],
          default: 'deployment',
          description:
            'deployment: the gateway only (OTLP push). daemonset: also an agent on every node that reads pod logs (docs/collection.md).',
        },
        otlpFrom: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          description:
            "Namespaces whose pods may send OTLP to the gateway and the agent (NetworkPolicy): the named ones and those the selector matches; the stack's own and the collected ones when absent.",
          properties: {
            namespaces: {
              type: 'array',
              nullable: true,
              maxItems: 100,
              items: { type: 'string', minLength: 1, maxLength: 63, pattern: DNS_NAME_PATTERN },
            },
            namespaceSelector: { ...labelSelector, nullable: true },
          },
        },
        collect: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          description:
            "Which pods' logs the agent reads (mode: daemonset): the named namespaces and those the selector matches; the stack's own namespace when absent. Two stacks never collect one pod.",
          properties: {
            namespaces: {
              type: 'array',
              nullable: true,
              maxItems: 100,
              items: { type: 'string', minLength: 1, maxLength: 63, pattern: DNS_NAME_PATTERN },
            },
            namespaceSelector: {
              type: 'object',
              nullable: true,
              additionalProperties: false,
              properties: {
                matchLabels: { ...stringMap, maxProperties: 20 },
                matchExpressions: {
                  type: 'array',
                  nullable: true,
                  maxItems: 20,
                  items: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['key', 'operator'],
                    properties: {
                      key: { type: 'string', minLength: 1, maxLength: 317, pattern: K8S_LABEL_KEY_PATTERN },
                      operator: { type: 'string', enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
                      values: {
                        type: 'array',
                        nullable: true,
                        maxItems: 50,
                        items: { type: 'string', maxLength: 63 },
                      },
                    },
                  },
                },
              },
            },
            podLabels: {
              type: 'array',
              nullable: true,
              maxItems: 20,
              items: { type: 'string', minLength: 1, maxLength: 317, pattern: K8S_LABEL_KEY_PATTERN },
              description: 'Pod labels copied onto every record the agent sends, as k8s.pod.label.<name>.',
            },
          },
        },
        agent: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          description: 'The per-node agent (mode: daemonset).',
          properties: { resources: { ...resources, nullable: true } },
        },
        sampler: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          description: "The tail-sampling tier behind the gateway's trace-ID load balancing (with sampling).",
          properties: {
            replicas: { type: 'integer', nullable: true, minimum: 1, maximum: 100 },
            resources: { ...resources, nullable: true },
          },
        },
        sampling: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          required: ['errors'],
          description: 'Tail sampling of traces.',
          properties: {
            errors: { type: 'boolean', default: true },
            slowerThan: { type: 'string', nullable: true, pattern: DURATION_PATTERN },
            baselinePercent: { type: 'number', nullable: true, minimum: 0, maximum: 100 },
          },
        },
      },
    },
    metrics: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: ['enabled', 'retention', 'scrapeInterval'],
      description: 'Prometheus and Alertmanager.',
      properties: {
        ...componentProps(true),
        retention: retention('15d', 'samples'),
        retentionSize: { type: 'string', nullable: true, pattern: '^[0-9]+(B|KB|MB|GB|TB|PB|EB)$' },
        scrapeInterval: { type: 'string', default: '30s', pattern: DURATION_PATTERN },
        storage: { ...storage, nullable: true },
        alertmanager: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          required: ['enabled'],
          properties: { ...componentProps(true), storage: { ...storage, nullable: true } },
        },
        cluster: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          required: ['enabled', 'kubelet', 'apiServer'],
          description:
            'Metrics of the cluster the stack runs in: node-exporter, Kubernetes object state, kubelet and cAdvisor, the API server. One stack per cluster should enable it.',
          properties: {
            enabled: { type: 'boolean', default: false },
            nodeExporter: {
              type: 'object',
              nullable: true,
              additionalProperties: false,
              required: ['enabled', 'port'],
              description: 'A node-exporter DaemonSet; needs a namespace that admits privileged pods.',
              properties: {
                enabled: { type: 'boolean', default: true },
                image: { type: 'string', nullable: true, minLength: 1, description: 'Overrides the pinned image.' },
                resources: { ...resources, nullable: true },
                port: { type: 'integer', default: 9100, minimum: 1024, maximum: 65535 },
              },
            },
            clusterState: {
              type: 'object',
              nullable: true,
              additionalProperties: false,
              required: ['enabled'],
              description: "Kubernetes object state from the collector's k8s_cluster receiver (one replica).",
              properties: {
                enabled: { type: 'boolean', default: true },
                image: { type: 'string', nullable: true, minLength: 1, description: 'Overrides the pinned image.' },
                resources: { ...resources, nullable: true },
              },
            },
            kubelet: { type: 'boolean', default: true },
            apiServer: { type: 'boolean', default: true },
          },
        },
        scrapeOperator: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          required: ['enabled', 'namespace'],
          description: "Scrape the Vigil operator's /metrics, so the shipped operator alerts can fire.",
          properties: {
            enabled: { type: 'boolean', default: false },
            namespace: {
              type: 'string',
              default: 'vigil-system',
              minLength: 1,
              maxLength: 63,
              pattern: DNS_NAME_PATTERN,
            },
          },
        },
        thanos: { ...thanos, nullable: true },
        remoteWrite: {
          type: 'array',
          nullable: true,
          maxItems: 10,
          items: remoteWrite,
          description: 'Long-term stores every Prometheus replica also writes to (remote_write).',
        },
        basicAuth: {
          ...queryBasicAuth("Prometheus's and Thanos Query's HTTP APIs", '<stack>-prometheus-auth'),
          nullable: true,
        },
      },
    },
    logs: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: ['enabled', 'retention'],
      description: 'Loki.',
      properties: {
        ...componentProps(false),
        retention: retention('7d', 'logs'),
        storage: { ...storage, nullable: true },
        labels: {
          type: 'array',
          nullable: true,
          maxItems: 15,
          items: { type: 'string', pattern: LABEL_NAME_PATTERN },
          description: 'Stream labels; keep them low-cardinality (never trace_id).',
        },
        targets: { ...lokiTargets, nullable: true },
      },
    },
    traces: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: ['enabled', 'retention', 'serviceGraphs', 'spanMetrics'],
      description: 'Tempo.',
      properties: {
        ...componentProps(false),
        retention: retention('7d', 'traces'),
        storage: { ...storage, nullable: true },
        serviceGraphs: { type: 'boolean', default: true },
        spanMetrics: { type: 'boolean', default: true },
      },
    },
    grafana: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: ['enabled'],
      description: 'Grafana with the datasources wired for correlation.',
      properties: {
        ...componentProps(true),
        adminSecretRef: {
          ...localRef,
          nullable: true,
          description: 'A Secret with admin-user and admin-password; generated when absent.',
        },
        allowFrom: {
          type: 'array',
          nullable: true,
          maxItems: 20,
          description:
            "Who may reach Grafana's web port (NetworkPolicy peers): pods the podSelector matches in the namespaces the namespaceSelector matches (the stack's own when absent); every pod of the stack's namespace when absent.",
          items: {
            type: 'object',
            additionalProperties: false,
            properties: {
              namespaceSelector: { ...labelSelector, nullable: true },
              podSelector: { ...labelSelector, nullable: true },
            },
          },
        },
        database: { ...grafanaDatabase, nullable: true },
      },
    },
    alerting: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      description: 'Alertmanager receivers and routes.',
      properties: {
        receivers: {
          type: 'array',
          nullable: true,
          maxItems: 50,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name'],
            properties: {
              name: { type: 'string', minLength: 1, maxLength: 63 },
              webhook: {
                type: 'object',
                nullable: true,
                additionalProperties: false,
                required: ['url'],
                properties: { url: { type: 'string', pattern: '^https?://' } },
              },
              slack: {
                type: 'object',
                nullable: true,
                additionalProperties: false,
                required: ['apiURLSecretRef'],
                properties: { channel: { type: 'string', nullable: true }, apiURLSecretRef: secretKeyRef },
              },
              pagerduty: {
                type: 'object',
                nullable: true,
                additionalProperties: false,
                required: ['routingKeySecretRef'],
                properties: { routingKeySecretRef: secretKeyRef },
              },
            },
          },
        },
        routes: {
          type: 'array',
          nullable: true,
          maxItems: 100,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['receiver'],
            properties: {
              receiver: { type: 'string', minLength: 1 },
              matchers: { type: 'array', nullable: true, items: { type: 'string', minLength: 1 } },
              continue: { type: 'boolean', nullable: true },
            },
          },
        },
        basicAuth: { ...queryBasicAuth("Alertmanager's HTTP API", '<stack>-alertmanager-auth'), nullable: true },
      },
    },
    correlation: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: ['enabled', 'windowSeconds', 'batchSize'],
      description: "Vigil's correlation engine: logs and traces joined by trace_id.",
      properties: {
        ...componentProps(true),
        windowSeconds: { type: 'integer', default: 60, minimum: 1, maximum: 3600 },
        batchSize: { type: 'integer', default: 5000, minimum: 1, maximum: 100000 },
        basicAuthSecretRef: {
          ...localRef,
          nullable: true,
          description:
            'A Secret with username, password and authorization (Basic base64(username:password)) for the correlator, which always asks for Basic auth; <stack>-correlator-auth is generated when absent.',
        },
        datadog: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          required: ['apiKeySecretRef'],
          properties: {
            apiKeySecretRef: secretKeyRef,
            site: { type: 'string', nullable: true, enum: [...DATADOG_SITES] as string[] },
          },
        },
      },
    },
    objectStorage: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      description: 'S3-compatible storage for Loki and Tempo; PVCs otherwise.',
      properties: {
        s3: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          required: ['endpoint', 'bucket'],
          properties: {
            endpoint: { type: 'string', minLength: 1 },
            bucket: { type: 'string', minLength: 3, maxLength: 63 },
            region: { type: 'string', nullable: true },
            insecure: { type: 'boolean', nullable: true },
            secretRef: {
              ...localRef,
              nullable: true,
              description: 'A Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.',
            },
          },
        },
      },
    },
  },
};

/** The status conditions of every kind (Kubernetes' metav1.Condition). */
export const conditions: JSONSchemaType<Condition[]> = {
  type: 'array',
  items: {
    type: 'object',
    required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
    properties: {
      type: { type: 'string' },
      status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
      observedGeneration: { type: 'integer', nullable: true },
      lastTransitionTime: { type: 'string' },
      reason: { type: 'string' },
      message: { type: 'string' },
    },
  },
};
const targetStatus: JSONSchemaType<TargetStatus> = {
  type: 'object',
  required: ['ready', 'replicas'],
  properties: {
    ready: { type: 'boolean' },
    replicas: { type: 'string' },
    quorum: { type: 'integer', nullable: true },
  },
};

const componentStatus: JSONSchemaType<ComponentStatus> = {
  type: 'object',
  required: ['ready'],
  properties: {
    ready: { type: 'boolean' },
    replicas: { type: 'string', nullable: true },
    targets: { type: 'object', nullable: true, required: [], additionalProperties: targetStatus },
    message: { type: 'string', nullable: true },
  },
};

export const stackStatusSchema: JSONSchemaType<ObservabilityStackStatus> = {
  type: 'object',
  properties: {
    observedGeneration: { type: 'integer', nullable: true },
    conditions: { ...conditions, nullable: true },
    components: { type: 'object', nullable: true, required: [], additionalProperties: componentStatus },
    endpoints: { type: 'object', nullable: true, required: [], additionalProperties: { type: 'string' } },
  },
};

const tier = (description: string): JSONSchemaType<AlertTier> => ({
  type: 'object',
  additionalProperties: false,
  required: ['enabled'],
  description,
  properties: {
    enabled: { type: 'boolean', default: true },
    labels: stringMap,
    annotations: stringMap,
  },
});

export const sloSpecSchema: JSONSchemaType<SLOSpec> = {
  type: 'object',
  additionalProperties: false,
  required: ['service', 'stackRef', 'objective', 'window', 'indicator'],
  properties: {
    service: { type: 'string', minLength: 1, maxLength: 253 },
    stackRef: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      description: 'The ObservabilityStack, in the same namespace, whose Prometheus loads the rules.',
      properties: { name: { type: 'string', minLength: 1, maxLength: 253, pattern: DNS_NAME_PATTERN } },
    },
    objective: {
      type: 'number',
      exclusiveMinimum: 0,
      exclusiveMaximum: 100,
      description: 'Target percent of good events, strictly between 0 and 100 (e.g. 99.9).',
    },
    window: {
      type: 'string',
      default: '30d',
      pattern: SLO_WINDOW_PATTERN,
      description: 'The SLO period in days or weeks (e.g. 28d, 30d).',
    },
    description: { type: 'string', nullable: true },
    indicator: {
      type: 'object',
      additionalProperties: false,
      description: 'Exactly one of ratio, latency or raw.',
      properties: {
        ratio: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          required: ['errors', 'total'],
          properties: {
            errors: { type: 'string', minLength: 1, description: 'PromQL rate of bad events; {{window}} is replaced.' },
            total: { type: 'string', minLength: 1, description: 'PromQL rate of all events; {{window}} is replaced.' },
          },
        },
        latency: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          required: ['histogram', 'thresholdSeconds'],
          properties: {
            histogram: {
              type: 'string',
              pattern: '^[a-zA-Z_:][a-zA-Z0-9_:]*$',
              description: 'Histogram metric name, without _bucket.',
            },
            thresholdSeconds: {
              type: 'number',
              exclusiveMinimum: 0,
              description: 'Good requests take at most this long; must be a bucket boundary (le).',
            },
            selector: { type: 'string', nullable: true, description: 'Label matchers, e.g. {job="checkout"}.' },
          },
        },
        raw: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          required: ['errorRatio'],
          properties: {
            errorRatio: {
              type: 'string',
              minLength: 1,
              description: 'PromQL error ratio (0..1); {{window}} is replaced.',
            },
          },
        },
      },
    },
    alerting: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      properties: {
        page: { ...tier('Fast burn: pages.'), nullable: true },
        ticket: { ...tier('Slow burn: opens a ticket.'), nullable: true },
        labels: stringMap,
        annotations: stringMap,
        runbookURL: { type: 'string', nullable: true, pattern: '^https?://' },
        minTrafficPerSecond: {
          type: 'number',
          nullable: true,
          minimum: 0,
          description: 'Below this request rate the page tier holds, so a few errors at low traffic do not page.',
        },
      },
    },
    prometheusRule: {
      type: 'boolean',
      nullable: true,
      description: 'Also write a monitoring.coreos.com/v1 PrometheusRule when that CRD exists.',
    },
  },
};

export const sloStatusSchema: JSONSchemaType<SLOStatus> = {
  type: 'object',
  properties: {
    observedGeneration: { type: 'integer', nullable: true },
    conditions: { ...conditions, nullable: true },
    ruleCount: { type: 'integer', nullable: true },
    dashboard: { type: 'string', nullable: true },
    budget: {
      type: 'object',
      nullable: true,
      properties: {
        remainingPercent: { type: 'string', nullable: true },
        burnRate: { type: 'string', nullable: true },
        observedAt: { type: 'string', nullable: true },
      },
    },
  },
};

// Absent components take their defaults (collector, metrics, Grafana and the correlation engine on;
// logs and traces off). `default: {}` makes the API server and ajv fill the nested defaults; it is set
// here because JSONSchemaType wants a default of the full type, and {} only becomes one after defaulting.
type Node = { default?: unknown; properties?: Record<string, Node> };
const specProps = (stackSpecSchema as Node).properties!;
for (const key of ['collector', 'metrics', 'logs', 'traces', 'grafana', 'correlation']) specProps[key].default = {};
specProps.metrics.properties!.alertmanager.default = {};
