// Where Loki and Tempo keep their data: a PVC, or S3 (spec.objectStorage) with keys from a Secret.
import type { k8s } from 'cdk8s-plus-33';
import type { S3Spec } from '../../api/types.js';

/** Endpoint without scheme (what Loki and Tempo expect) and whether it is plain HTTP. */
export function s3Endpoint(s3: S3Spec): { host: string; insecure: boolean } {
  const m = /^(https?):\/\/(.*?)\/*$/.exec(s3.endpoint);
  if (!m) return { host: s3.endpoint, insecure: s3.insecure ?? false };
  return { host: m[2], insecure: s3.insecure ?? m[1] === 'http' };
}

/** The keys of spec.objectStorage.s3.secretRef's Secret (the operator checks that both are there). */
export const S3_SECRET_KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;

/** AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the Secret; render validation requires the ref. */
export function s3Env(s3: S3Spec): k8s.EnvVar[] {
  const name = s3.secretRef?.name ?? '';
  return S3_SECRET_KEYS.map((key) => ({
    name: key,
    valueFrom: { secretKeyRef: { name, key } },
  }));
}
