// The web-config Secrets of the query APIs (docs/adr/0020-basic-auth-on-query-apis.md): web.yml with
// a bcrypt hash of the auth Secret's password, for Prometheus, Thanos Query and Alertmanager.
//
// A bcrypt hash is salted, so hashing on every reconcile would change the Secret every time (and
// roll nothing, but write every time). The hash the live Secret holds is kept while it still
// matches the password; a compare is as slow as a hash (cost 10: tens of milliseconds), so its
// result is remembered in memory by a digest of (hash, password), and a steady reconcile does no
// bcrypt work at all. Values are never logged.
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import {
  parseWebConfig,
  type QueryApi,
  thanosClientYaml,
  WEB_CONFIG_KEYS,
  webConfigYaml,
} from '../desired/stack/query-auth.js';

/** bcrypt's cost: 2^10 rounds, the exporter-toolkit documentation's example and bcrypt's usual default. */
export const BCRYPT_COST = 10;

/** At most this many compare results are remembered (two per stack in steady state). */
const CACHE_LIMIT = 4096;
const compared = new Map<string, boolean>();

const cacheKey = (hash: string, password: string) =>
  createHash('sha256').update(hash).update('\0').update(password).digest('hex');

/** Counts of bcrypt work done, for tests and the ADR's measurements. */
export const bcryptWork = { hashes: 0, compares: 0 };

/** Whether a bcrypt hash matches the password; each (hash, password) pair is compared once per process. */
export async function hashMatches(hash: string, password: string): Promise<boolean> {
  const key = cacheKey(hash, password);
  const known = compared.get(key);
  if (known !== undefined) return known;
  bcryptWork.compares++;
  let ok = false;
  try {
    ok = await bcrypt.compare(password, hash);
  } catch {
    ok = false;
  }
  if (compared.size >= CACHE_LIMIT) compared.clear();
  compared.set(key, ok);
  return ok;
}

/** A new bcrypt hash of the password at BCRYPT_COST, remembered as matching it. */
export async function newHash(password: string): Promise<string> {
  bcryptWork.hashes++;
  const hash = await bcrypt.hash(password, BCRYPT_COST);
  if (compared.size >= CACHE_LIMIT) compared.clear();
  compared.set(cacheKey(hash, password), true);
  return hash;
}

/** Forgets every remembered compare (tests). */
export function forgetCompares(): void {
  compared.clear();
}

/**
 * The web-config Secret's values for a user and password, keeping the live web.yml while it is for
 * the same user and its hash still matches the password. Prometheus's also carries the Thanos
 * sidecar's client config (the user inline, the password from the auth Secret's file).
 */
export async function webConfigValues(
  api: QueryApi,
  existing: Readonly<Record<string, string>>,
  username: string,
  password: string,
): Promise<Record<string, string>> {
  const old = parseWebConfig(existing[WEB_CONFIG_KEYS.web]);
  const keep = old && old.username === username && (await hashMatches(old.hash, password));
  const web = keep ? existing[WEB_CONFIG_KEYS.web] : webConfigYaml(username, await newHash(password));
  return {
    [WEB_CONFIG_KEYS.web]: web,
    ...(api === 'prometheus' && { [WEB_CONFIG_KEYS.thanosClient]: thanosClientYaml(username) }),
  };
}
