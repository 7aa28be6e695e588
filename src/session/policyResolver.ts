import { targetPatternCovers } from '../auth/grants.js';
import { stricterPolicy } from './dapPolicy.js';
import type { PolicyName } from '../config/guardrailsConfigSchema.js';

/** Configuration of the policies (config key `policies`). */
export interface PolicyConfig {
  /** Policy of a session that no rule matches. */
  readonly default: PolicyName;
  /** Target name pattern (`*`, `?`) → policy. */
  readonly targets: Readonly<Record<string, PolicyName>>;
  /** Principal id pattern (`relay-secret`, `jwt:<sub>`, `cert:<CN>`, `attach-secret:<target>`) → policy. */
  readonly principals: Readonly<Record<string, PolicyName>>;
}

/** A session's policy and the rules it came from (for the audit log). */
export interface ResolvedPolicy {
  readonly policy: PolicyName;
  /** The rules that matched, e.g. `targets["web-*"]`, or `default`. */
  readonly because: readonly string[];
}

/**
 * The policy of a session of `principalId` with `target`: the strictest policy of
 * every matching rule in `targets` and in `principals` (the stricter one wins, so a
 * principal rule cannot loosen a target rule); `default` when no rule matches at all.
 */
export function resolvePolicy(config: PolicyConfig, principalId: string, target: string): ResolvedPolicy {
  let policy: PolicyName | undefined;
  const because: string[] = [];
  const apply = (kind: 'targets' | 'principals', name: string): void => {
    for (const [pattern, rule] of Object.entries(config[kind])) {
      if (!targetPatternCovers(pattern, name)) continue;
      policy = policy === undefined ? rule : stricterPolicy(policy, rule);
      because.push(`${kind}[${JSON.stringify(pattern)}]=${rule}`);
    }
  };
  apply('targets', target);
  apply('principals', principalId);
  return policy === undefined ? { policy: config.default, because: ['default'] } : { policy, because };
}
