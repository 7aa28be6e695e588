import { RelayError } from '../common/relayError.js';
import type { RelayConfig } from '../config/configSchema.js';
import type { AgentConnection } from '../agents/agentConnection.js';
import type { TargetRegistry } from '../targets/targetRegistry.js';

/** Which target a `/ptvsd` session goes to, or why there is none. */
export type PtvsdTargetChoice = { readonly target: string; readonly how: 'configured' | 'onlyConnected' } | { readonly target: undefined; readonly problem: string };

/**
 * The target of a `/ptvsd` session: `ptvsd.defaultTarget` when set (connected or not:
 * the session broker says `UNKNOWN_TARGET` when it is not); else the only connected
 * target when exactly one is; else nothing, with the reason.
 */
export function choosePtvsdTarget(defaultTarget: string | undefined, connected: readonly string[]): PtvsdTargetChoice {
  if (defaultTarget !== undefined) return { target: defaultTarget, how: 'configured' };
  if (connected.length === 1) return { target: connected[0]!, how: 'onlyConnected' };
  const problem =
    connected.length === 0
      ? 'no target is connected and ptvsd.defaultTarget is not set'
      : `${connected.length} targets are connected and ptvsd.defaultTarget is not set; set it in the relay's configuration, or attach by name (dbgrelay attach <target>)`;
  return { target: undefined, problem };
}

/** The error a `/ptvsd` upgrade is refused with when {@link choosePtvsdTarget} found no target. */
export function noPtvsdTarget(problem: string): RelayError {
  return new RelayError('UNKNOWN_TARGET', `no default target for /ptvsd: ${problem}`);
}

/** {@link choosePtvsdTarget} for the relay's configuration and the targets connected now. */
export function currentPtvsdTarget(config: RelayConfig, registry: TargetRegistry<AgentConnection>): PtvsdTargetChoice {
  return choosePtvsdTarget(
    config.ptvsd.defaultTarget,
    registry.list().map((target) => target.name),
  );
}
