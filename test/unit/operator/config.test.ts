import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../operator/config.js';

describe('loadConfig', () => {
  it('takes defaults when nothing is set', () => {
    const c = loadConfig({}, []);
    expect(c.operator).toMatchObject({ workers: 4, healthPort: 8080, resyncMs: 600_000, watchTimeoutSeconds: 300 });
    expect(c.operator.namespaces).toBeUndefined();
    expect(c.operator.leaderElection).toBeUndefined();
  });

  it('lets flags override env', () => {
    const c = loadConfig({ VIGIL_WORKERS: '2', VIGIL_NAMESPACES: 'a' }, ['--workers', '8', '--namespaces=b,c']);
    expect(c.operator.workers).toBe(8);
    expect(c.operator.namespaces).toEqual(['b', 'c']);
  });

  it('sets up leader election from the downward API variables', () => {
    const c = loadConfig({ VIGIL_LEADER_ELECT: 'true', POD_NAME: 'op-1', POD_NAMESPACE: 'vigil-system' }, []);
    expect(c.operator.leaderElection).toEqual({ namespace: 'vigil-system', name: 'vigil-operator', identity: 'op-1' });
  });

  it('names every bad variable and flag in one error', () => {
    expect(() =>
      loadConfig({ VIGIL_WORKERS: 'many', VIGIL_LEADER_ELECT: 'perhaps', VIGIL_NAMESPACES: 'Bad_NS' }, [
        '--colour',
        'x',
      ]),
    ).toThrow(
      /VIGIL_WORKERS must be an integer from 1 to 64, got "many"[\s\S]*VIGIL_LEADER_ELECT must be true or false[\s\S]*VIGIL_NAMESPACES: "Bad_NS"[\s\S]*unknown flag --colour|unknown flag --colour[\s\S]*VIGIL_WORKERS/,
    );
  });

  it('names a flag without its value, and lists the known flags for an unknown one', () => {
    expect(() => loadConfig({}, ['--workers'])).toThrow(/--workers needs a value/);
    expect(() => loadConfig({}, ['--worker', '3'])).toThrow(
      /unknown flag --worker \(known: --kubeconfig, --namespaces, --workers, /,
    );
  });

  it('takes the last of a repeated flag', () => {
    expect(loadConfig({}, ['--workers', '2', '--workers=3']).operator.workers).toBe(3);
  });

  it('rejects a Prometheus URL that is not http(s)', () => {
    expect(() => loadConfig({ VIGIL_PROMETHEUS_URL: 'prometheus:9090' }, [])).toThrow(
      /VIGIL_PROMETHEUS_URL must be an http\(s\) URL/,
    );
  });
});
