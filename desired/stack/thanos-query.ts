// Thanos Query in front of an HA Prometheus pair (two or more replicas): it asks every replica's
// Thanos sidecar (StoreAPI, gRPC) found through the headless Service's DNS, merges their answers
// and deduplicates the replicas by their external replica label, so a series both scraped is one
// series, and a query still answers with one replica down. Stateless; Grafana, status.endpoints
// and the SLO budget reader query it (wiring.ts's metricsQuery). docs/adr/0016-prometheus-ha-thanos.md.
import type { Construct } from 'constructs';
import { PROMETHEUS_REPLICA_LABEL } from '../../conventions/index.js';
import { PORTS, type StackContext } from './context.js';
import { IMAGES } from './images.js';
import { container, deployment, podTemplate, service, serviceAccount } from './pod.js';
import { queryAuthOn, WEB_CONFIG_DIR, WEB_CONFIG_KEYS, webConfigMount, webConfigVolume } from './query-auth.js';

/** The headless Service over the Prometheus pods' sidecars: one DNS A record per pod. */
export const prometheusStoresService = (ctx: StackContext): string => `${ctx.name('prometheus')}-headless`;

/** Every Prometheus replica's sidecar, by the DNS name of their headless Service. */
export const prometheusStores = (ctx: StackContext): string =>
  `dns+${prometheusStoresService(ctx)}.${ctx.namespace}.svc:${PORTS.thanosGrpc}`;

/** The querier's arguments: its listen addresses, the replica label, the sidecars by DNS. */
export function thanosQueryArgs(ctx: StackContext): string[] {
  return [
    'query',
    `--http-address=0.0.0.0:${PORTS.thanosHttp}`,
    `--grpc-address=0.0.0.0:${PORTS.thanosGrpc}`,
    `--query.replica-label=${PROMETHEUS_REPLICA_LABEL}`,
    // dns+: every A record of the headless Service, each on the sidecars' gRPC port (--endpoint's
    // successor: the endpoint list as inline YAML, here in its JSON form).
    `--endpoint.sd-config=${JSON.stringify({ endpoints: [{ address: prometheusStores(ctx) }] })}`,
    // spec.metrics.basicAuth covers the querier too: it answers the same PromQL as Prometheus.
    ...(queryAuthOn(ctx, 'prometheus') ? [`--http.config=${WEB_CONFIG_DIR}/${WEB_CONFIG_KEYS.web}`] : []),
    '--log.format=json',
  ];
}

export function thanosQueryChart(scope: Construct, ctx: StackContext): void {
  const c = 'thanos-query';
  serviceAccount(scope, ctx, c);
  const size = ctx.size[c];
  const auth = queryAuthOn(ctx, 'prometheus');
  const pod = podTemplate(ctx, c, {
    uid: 65534,
    containers: [
      container({
        name: 'thanos-query',
        image: ctx.spec.metrics?.thanos?.image ?? IMAGES.thanos,
        args: thanosQueryArgs(ctx),
        ports: [
          { name: 'http', port: PORTS.thanosHttp },
          { name: 'grpc', port: PORTS.thanosGrpc },
        ],
        mounts: auth ? [webConfigMount()] : undefined,
        resources: size.resources,
        // Every path asks for credentials with the web config, the kubelet's probes too.
        probe: auth ? { tcpPort: 'http' } : { path: '/-/ready', port: 'http' },
      }),
    ],
    volumes: auth ? [webConfigVolume(ctx, 'prometheus')] : undefined,
  });
  deployment(scope, ctx, c, pod, size.replicas);
  service(scope, ctx, c, [{ name: 'http', port: PORTS.thanosHttp }]);
}
