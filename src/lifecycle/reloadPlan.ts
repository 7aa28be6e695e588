import type { RelayConfig } from '../config/configSchema.js';

/**
 * Config keys (and everything below them) a reload applies to new connections and
 * sessions (docs/operations.md "Reload"). Any other key that changed needs a restart
 * and keeps its running value.
 */
export const reloadableKeys: readonly string[] = [
  'auth.secret',
  'auth.secretFile',
  'auth.jwt',
  'tls.certFile',
  'tls.keyFile',
  'tls.clientCaFile',
  'tls.publicNames',
  'policies',
  'pauseWatchdog',
  'sessions.detachTimeoutMs',
  'sessions.takeoverTimeoutMs',
  'targets',
  'limits.maxAgents',
  'limits.maxAgentsPerPrincipal',
  'limits.maxSessionsPerPrincipal',
  'limits.maxSessionsPerTarget',
  'limits.sessionIdleTimeoutMs',
  'lifecycle',
];

/** What a reload would change. */
export interface ReloadPlan {
  /** Changed keys the reload applies (dotted paths of leaves). */
  readonly changed: readonly string[];
  /** Changed keys that need a restart; their running values stay in force. */
  readonly needsRestart: readonly string[];
}

type Tree = Record<string, unknown>;

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Dotted paths of the leaves that differ (arrays are leaves); a key present on one side only differs. */
function changedLeaves(a: unknown, b: unknown, path: string[] = []): string[] {
  if (isTree(a) && isTree(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((key) => changedLeaves(a[key], b[key], [...path, key]));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [path.join('.')];
}

/** True when `key` is `prefix` or below it. */
function isUnder(key: string, prefix: string): boolean {
  return key === prefix || key.startsWith(prefix + '.');
}

/** Sorts the keys that differ between `running` and `next` into applied and needing a restart. */
export function planReload(running: RelayConfig, next: RelayConfig): ReloadPlan {
  const changed: string[] = [];
  const needsRestart: string[] = [];
  for (const key of changedLeaves(running, next)) {
    (reloadableKeys.some((prefix) => isUnder(key, prefix)) ? changed : needsRestart).push(key);
  }
  return { changed, needsRestart };
}

/**
 * The configuration in force after a reload: `next`, except that every key of
 * `needsRestart` keeps its value from `running` (so a later reload still reports it).
 */
export function effectiveConfig(running: RelayConfig, next: RelayConfig, needsRestart: readonly string[]): RelayConfig {
  const result = structuredClone(next) as unknown as Tree;
  for (const key of needsRestart) {
    const parts = key.split('.');
    let from: unknown = running;
    for (const part of parts) from = isTree(from) ? from[part] : undefined;
    let node = result;
    for (const part of parts.slice(0, -1)) {
      if (!isTree(node[part])) node[part] = {};
      node = node[part] as Tree;
    }
    const last = parts[parts.length - 1]!;
    if (from === undefined) delete node[last];
    else node[last] = structuredClone(from);
  }
  return deepFreeze(result) as unknown as RelayConfig;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
