// Small builders for test fixtures: aStack({ traces: { enabled: true } }), anSLO({ objective: 99 }).
import { API_GROUP_VERSION } from '../../conventions/index.js';

type Spec = Record<string, unknown>;

export function aStack(spec: Spec = {}, name = 'demo'): Record<string, unknown> {
  return {
    apiVersion: API_GROUP_VERSION,
    kind: 'ObservabilityStack',
    metadata: { name },
    spec: { environment: 'dev', size: 'demo', ...spec },
  };
}

export function anSLO(spec: Spec = {}, name = 'checkout-availability'): Record<string, unknown> {
  return {
    apiVersion: API_GROUP_VERSION,
    kind: 'SLO',
    metadata: { name },
    spec: {
      service: 'checkout',
      stackRef: { name: 'demo' },
      objective: 99.9,
      window: '30d',
      indicator: {
        ratio: {
          errors: 'sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{window}}]))',
          total: 'sum(rate(http_requests_total{job="checkout"}[{{window}}]))',
        },
      },
      ...spec,
    },
  };
}
