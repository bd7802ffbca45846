// STRUCTURAL CHECKS of the configs of programs this project may not build or run (Loki, Tempo:
// AGPL, docs/adr/0006 and 0010). Each is a JSON Schema of the keys and types Vigil emits, taken
// from the program's configuration reference at the deployed version (Loki 3.7: "Grafana Loki
// configuration parameters", docs/sources/shared/configuration.md; Tempo 2.9: "Configure Tempo",
// docs/sources/tempo/configuration/_index.md). Every object is closed: a key the schema does not
// name is an error, as Loki's and Tempo's strict YAML parsing would make it. This proves the shape
// only, not that Loki or Tempo would accept the values; a key Vigil starts to emit must be added
// here from the reference.
import { Ajv, type ErrorObject } from 'ajv';

type Schema = Record<string, unknown>;

// The reference's placeholders.
const str: Schema = { type: 'string' };
const bool: Schema = { type: 'boolean' };
const strings: Schema = { type: 'array', items: str };
/** <duration> of a Go time.Duration field: ns, us, µs, ms, s, m, h (no d, w, y). */
const goDuration: Schema = { type: 'string', pattern: '^(0|([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$' };
/** <duration> of a Prometheus model.Duration field: also d, w, y. */
const promDuration: Schema = { type: 'string', pattern: '^(0|([0-9]+(ms|s|m|h|d|w|y))+)$' };
const logLevel: Schema = { enum: ['debug', 'info', 'warn', 'error'] };
const port: Schema = { type: 'integer', minimum: 0, maximum: 65535 };
const hostPort: Schema = { type: 'string', pattern: '^[^\\s:]*:[0-9]+$' };

/** A closed block: only these keys, each of its type; `required` must be present. */
function block(properties: Record<string, Schema>, required: string[] = []): Schema {
  return { type: 'object', properties, required, additionalProperties: false };
}
const list = (items: Schema, minItems = 0): Schema => ({ type: 'array', items, minItems });

// ---------------------------------------------------------------- Loki 3.7

/** attributes_config (otlp_config's lists): what to do with OTLP attributes, by name or regex. */
const lokiAttributesConfig: Schema = {
  ...block({ action: { enum: ['index_label', 'structured_metadata', 'drop'] }, attributes: strings, regex: str }, [
    'action',
  ]),
  anyOf: [{ required: ['attributes'] }, { required: ['regex'] }],
};

/** s3_storage_config (common.storage.s3). */
const lokiS3 = block({
  endpoint: str,
  region: str,
  bucketnames: str,
  access_key_id: str,
  secret_access_key: str,
  insecure: bool,
  s3forcepathstyle: bool,
});

/** memberlist_config (Loki's and Tempo's alike): join addresses and the gossip port. */
const memberlist = (extra: Record<string, Schema> = {}) =>
  block({ join_members: list(hostPort, 1), bind_port: port, ...extra }, ['join_members']);
const lokiMemberlist = memberlist();

/** The schema of loki.yaml as desired/stack/loki.ts writes it. */
export const LOKI_SCHEMA: Schema = block(
  {
    target: str,
    auth_enabled: bool,
    server: block({
      http_listen_address: str,
      http_listen_port: port,
      grpc_listen_address: str,
      grpc_listen_port: port,
      log_level: logLevel,
    }),
    common: block({
      instance_addr: str,
      path_prefix: str,
      replication_factor: { type: 'integer', minimum: 1 },
      // The compactor's HTTP address for the other targets (simple scalable: the backend's Service).
      compactor_address: { type: 'string', pattern: '^https?://' },
      ring: block({ kvstore: block({ store: { enum: ['consul', 'etcd', 'inmemory', 'memberlist', 'multi'] } }) }),
      storage: {
        ...block({
          filesystem: block({ chunks_directory: str, rules_directory: str }),
          s3: lokiS3,
        }),
        minProperties: 1,
        maxProperties: 1,
      },
    }),
    // memberlist_config: the gossip ring of the simple scalable targets.
    memberlist: lokiMemberlist,
    schema_config: block(
      {
        configs: list(
          block(
            {
              from: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' },
              store: { enum: ['tsdb', 'boltdb-shipper'] },
              object_store: { enum: ['filesystem', 's3', 'gcs', 'azure', 'swift', 'bos', 'alibabacloud', 'cos'] },
              schema: { enum: ['v11', 'v12', 'v13'] },
              index: block({ prefix: str, period: goDuration }, ['period']),
            },
            ['from', 'store', 'object_store', 'schema'],
          ),
          1,
        ),
      },
      ['configs'],
    ),
    limits_config: block({
      allow_structured_metadata: bool,
      // Labels Loki may copy into service_name when a stream has none; empty turns that off.
      discover_service_name: strings,
      retention_period: promDuration,
      volume_enabled: bool,
      otlp_config: block({
        resource_attributes: block({ ignore_defaults: bool, attributes_config: list(lokiAttributesConfig) }),
        scope_attributes: list(lokiAttributesConfig),
        log_attributes: list(lokiAttributesConfig),
        severity_text_as_label: bool,
      }),
    }),
    compactor: block({
      working_directory: str,
      compaction_interval: goDuration,
      retention_enabled: bool,
      retention_delete_delay: goDuration,
      delete_request_store: str,
    }),
    pattern_ingester: block({ enabled: bool }),
    analytics: block({ reporting_enabled: bool }),
  },
  ['schema_config'],
);

// ---------------------------------------------------------------- Tempo 2.9

const tempoS3 = block(
  {
    bucket: str,
    prefix: str,
    endpoint: str,
    region: str,
    access_key: str,
    secret_key: str,
    insecure: bool,
    forcepathstyle: bool,
  },
  ['bucket', 'endpoint'],
);

/** The schema of tempo.yaml as desired/stack/tempo.ts writes it. */
export const TEMPO_SCHEMA: Schema = block({
  target: str,
  stream_over_http_enabled: bool,
  server: block({ http_listen_port: port, grpc_listen_port: port, log_level: logLevel }),
  distributor: block({
    receivers: block({
      otlp: block({
        protocols: block({ grpc: block({ endpoint: hostPort }), http: block({ endpoint: hostPort }) }),
      }),
    }),
  }),
  ingester: block({
    max_block_duration: goDuration,
    // The scalable single binary: each trace is written to this many ingesters.
    lifecycler: block({ ring: block({ replication_factor: { type: 'integer', minimum: 1 } }) }),
  }),
  memberlist: memberlist({ abort_if_cluster_join_fails: bool }),
  querier: block({ frontend_worker: block({ frontend_address: hostPort }, ['frontend_address']) }),
  compactor: block({ compaction: block({ block_retention: goDuration }) }),
  storage: block(
    {
      trace: {
        ...block(
          {
            backend: { enum: ['local', 's3', 'gcs', 'azure'] },
            wal: block({ path: str }),
            local: block({ path: str }, ['path']),
            s3: tempoS3,
          },
          ['backend'],
        ),
        // The block of the chosen backend must be there (JSON Schema's if/then, not a promise).
        allOf: [
          // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then
          { if: { properties: { backend: { const: 'local' } } }, then: { required: ['local'] } },
          // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then
          { if: { properties: { backend: { const: 's3' } } }, then: { required: ['s3'] } },
        ],
      },
    },
    ['trace'],
  ),
  usage_report: block({ reporting_enabled: bool }),
  metrics_generator: block({
    registry: block({ external_labels: { type: 'object', additionalProperties: str } }),
    storage: block({
      path: str,
      // Prometheus's remote_write (Tempo embeds its config type): basic_auth from files only.
      remote_write: list(
        block(
          {
            url: { type: 'string', pattern: '^https?://' },
            send_exemplars: bool,
            basic_auth: block({ username_file: str, password_file: str }, ['username_file', 'password_file']),
          },
          ['url'],
        ),
        1,
      ),
    }),
    traces_storage: block({ path: str }),
  }),
  overrides: block({
    defaults: block({
      metrics_generator: block({
        processors: list({ enum: ['service-graphs', 'span-metrics', 'local-blocks'] }, 1),
      }),
    }),
  }),
});

// strictRequired off: the if/then branches require keys that the enclosing block defines.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const checkers = new Map<Schema, ReturnType<typeof ajv.compile>>();

function explain(e: ErrorObject): string {
  const path = e.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(top level)';
  if (e.keyword === 'additionalProperties') {
    const key = (e.params as { additionalProperty: string }).additionalProperty;
    return `${path === '(top level)' ? key : `${path}.${key}`}: unknown key (not in the schema from the configuration reference)`;
  }
  if (e.keyword === 'enum')
    return `${path}: ${e.message}: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  return `${path}: ${e.message}`;
}

/** The structural problems of `config` (as its program would read it), one line each naming the key. */
export function structuralProblems(schema: Schema, config: unknown): string[] {
  let check = checkers.get(schema);
  if (!check) {
    check = ajv.compile(schema);
    checkers.set(schema, check);
  }
  if (check(config)) return [];
  // if/then reports its own "must match then schema" beside the real error; keep the real one.
  return [...new Set((check.errors ?? []).filter((e) => e.keyword !== 'if').map(explain))];
}
