import { describe, expect, it } from '@jest/globals';
import { renderStack } from '../../../desired/stack/index.js';
import { aStack } from './stacks.js';

const problems = (s: ReturnType<typeof aStack>) => renderStack(s).problems;

describe('render-time problems', () => {
  it('accepts the default stack', () => {
    expect(problems(aStack())).toEqual([]);
  });

  it('rejects S3 storage without a Secret ref, naming the field', () => {
    const s = aStack({ logs: {}, objectStorage: { s3: { endpoint: 'http://minio:9000', bucket: 'logs' } } });
    expect(problems(s)).toEqual([
      { path: 'spec.objectStorage.s3.secretRef', message: expect.stringContaining('Secret') },
    ]);
  });

  it('rejects a Prometheus retention shorter than its 2h block', () => {
    expect(problems(aStack({ metrics: { retention: '90m' } }))).toEqual([
      { path: 'spec.metrics.retention', message: expect.stringContaining('at least 2h') },
    ]);
  });

  it('rejects Loki and Tempo retentions under 24h, and Loki retention that is not whole days', () => {
    expect(problems(aStack({ logs: { retention: '12h' }, traces: { retention: '6h' } }))).toEqual([
      { path: 'spec.logs.retention', message: expect.stringContaining('at least 24h') },
      { path: 'spec.traces.retention', message: expect.stringContaining('at least 24h') },
    ]);
    expect(problems(aStack({ logs: { retention: '36h' } }))).toEqual([
      { path: 'spec.logs.retention', message: expect.stringContaining('whole number of days') },
    ]);
  });

  it('rejects tail sampling that would keep nothing', () => {
    const s = aStack({ traces: {}, collector: { sampling: { errors: false, baselinePercent: 0 } } });
    expect(problems(s)).toEqual([
      { path: 'spec.collector.sampling', message: expect.stringContaining('drop every trace') },
    ]);
  });

  it('rejects tail sampling with a zero latency threshold', () => {
    const s = aStack({ traces: {}, collector: { sampling: { errors: true, slowerThan: '0s' } } });
    expect(problems(s)).toEqual([
      { path: 'spec.collector.sampling.slowerThan', message: expect.stringContaining('0s') },
    ]);
  });

  it('rejects a collector with nowhere to send data', () => {
    const s = aStack({ metrics: { enabled: false }, correlation: { enabled: false } });
    expect(problems(s)).toEqual([{ path: 'spec.collector.enabled', message: expect.stringContaining('nowhere') }]);
  });

  it('accepts gateway replicas in daemonset mode (the agent runs per node) and rejects more than one single-binary Loki', () => {
    const s = aStack({ collector: { mode: 'daemonset', replicas: 2 }, logs: { replicas: 2 } });
    expect(problems(s).map((p) => p.path)).toEqual(['spec.logs.replicas']);
  });

  it('rejects requests above limits after the size profile is applied', () => {
    const s = aStack({ metrics: { resources: { requests: { memory: '4Gi' } } } });
    expect(problems(s)).toEqual([
      {
        path: 'spec.metrics.resources.requests.memory',
        message: 'requests.memory (4Gi) must not exceed limits.memory (512Mi)',
      },
    ]);
  });

  it('reports every problem at once, one per fault', () => {
    const s = aStack({
      metrics: { retention: '1h' },
      logs: { retention: '1h' },
      objectStorage: { s3: { endpoint: 'minio:9000', bucket: 'bucket' } },
    });
    expect(problems(s).map((p) => p.path)).toEqual([
      'spec.metrics.retention',
      'spec.logs.retention',
      'spec.objectStorage.s3.secretRef',
    ]);
    expect(renderStack(s).objects).toEqual([]);
  });

  it('never throws on input it does not expect: the failure comes back as a problem', () => {
    const s = aStack();
    // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed input
    const broken = { ...s, spec: { ...s.spec, alerting: { receivers: [null] } } } as any;
    const r = renderStack(broken);
    expect(r.objects).toEqual([]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0].path).toBe('spec');
  });
});
