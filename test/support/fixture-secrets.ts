// The Secrets test/unit/charts/fixtures/s3-large.yaml names, with the keys its pods and the operator's
// checks read (desired/stack: the Grafana admin, correlator auth, S3 and remote write credentials).
// For the tests and the benchmark that run that stack on a control plane.
const correlatorAuthorization = `Basic ${Buffer.from('vigil:large-stack-correlator').toString('base64')}`;

export const S3_LARGE_SECRETS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'grafana-admin': { 'admin-user': 'admin', 'admin-password': 'large-stack-password' },
  pagerduty: { 'routing-key': 'r0ut1ng' },
  slack: { url: 'https://hooks.slack.example/services/x' },
  'correlator-auth': { username: 'vigil', password: 'large-stack-correlator', authorization: correlatorAuthorization },
  datadog: { 'api-key': 'dd-key' },
  's3-credentials': { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret-example' },
  'lts-credentials': { username: 'lts', password: 'lts-password' },
  'team-store': { token: 'team-store-token' },
};

/** Those Secrets as manifests (stringData), for kubectl apply. */
export function s3LargeSecretManifests(): Record<string, unknown>[] {
  return Object.entries(S3_LARGE_SECRETS).map(([name, stringData]) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    stringData,
  }));
}
