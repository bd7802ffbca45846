import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../operator/config.js';

describe('the remediation flags of vigil operator', () => {
  it('leave the receiver off without a token Secret', () => {
    expect(loadConfig({}, []).operator.remediation).toBeUndefined();
  });

  it('turn it on with a token Secret, on 0.0.0.0:9444 behind the in-cluster Service by default', () => {
    expect(
      loadConfig({ POD_NAMESPACE: 'ops' }, ['--remediation-token-secret', 'ops/vigil-remediation']).operator
        .remediation,
    ).toEqual({
      host: '0.0.0.0',
      port: 9444,
      tokenSecret: { namespace: 'ops', name: 'vigil-remediation', key: 'token' },
      url: 'http://vigil-operator.ops.svc:9444',
      alertmanagerUrl: undefined,
    });
  });

  it('take a host, a key, the receiver URL and the Alertmanager URL, from flags or env', () => {
    const c = loadConfig(
      { VIGIL_REMEDIATION_PORT: '127.0.0.1:18080', VIGIL_ALERTMANAGER_URL: 'http://127.0.0.1:9093' },
      ['--remediation-token-secret=ops/am-token:bearer', '--remediation-url', 'http://127.0.0.1:18080'],
    ).operator.remediation;
    expect(c).toEqual({
      host: '127.0.0.1',
      port: 18080,
      tokenSecret: { namespace: 'ops', name: 'am-token', key: 'bearer' },
      url: 'http://127.0.0.1:18080',
      alertmanagerUrl: 'http://127.0.0.1:9093',
    });
  });

  it('name each bad value', () => {
    let message = '';
    try {
      loadConfig({}, [
        '--remediation-token-secret',
        'no-namespace',
        '--remediation-port',
        '99999',
        '--remediation-url',
        'ftp://x',
      ]);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(
      'VIGIL_REMEDIATION_TOKEN_SECRET must be namespace/name or namespace/name:key, got "no-namespace"',
    );
    expect(message).toContain('VIGIL_REMEDIATION_PORT must be [host:]port, got "99999"');
    expect(message).toContain('VIGIL_REMEDIATION_URL must be an http(s) URL, got "ftp://x"');
  });
});
