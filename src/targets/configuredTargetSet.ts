import { RelayError } from '../common/relayError.js';
import type { RelayConfig } from '../config/configSchema.js';
import type { Logger } from '../log/logger.js';
import type { RelayMetrics } from '../metrics/relayMetrics.js';
import { buildConfiguredTarget, type BuiltConfiguredTarget } from './configuredTargets.js';
import type { TargetEndpoint } from './targetEndpoint.js';
import type { TargetEntry, TargetRegistry } from './targetRegistry.js';

/** How often a retired target checks whether its last session ended. */
const retiredCheckMs = 1_000;

/** What a reload did to the configured targets. */
export interface TargetChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly replaced: readonly string[];
}

/** A reload's new targets, built and checked, not yet in the registry. */
export interface PreparedTargets {
  readonly changes: TargetChanges;
  /** Puts the new targets in the registry, takes the old ones out. Cannot fail. */
  commit(): void;
  /** Drops what was built (the reload was refused). */
  discard(): void;
}

interface Current {
  /** The entry's config, as JSON, to tell a changed entry from an unchanged one. */
  readonly json: string;
  readonly endpoint: TargetEndpoint;
  readonly remove: () => boolean;
}

/**
 * The configured targets (`targets.*`) of a running relay, kept in step with the
 * configuration across reloads: added entries appear in the registry, removed ones
 * disappear, changed ones are replaced. Sessions already running with a removed or
 * replaced target keep their connections: its endpoint is closed (e.g. its pooled SSH
 * connection released) only once its last session ended.
 */
export class ConfiguredTargetSet {
  private readonly current = new Map<string, Current>();
  private readonly retired = new Set<{ endpoint: TargetEndpoint; timer?: NodeJS.Timeout }>();

  constructor(
    private readonly registry: TargetRegistry,
    private readonly logger: Logger,
    private readonly metrics?: RelayMetrics,
  ) {}

  /**
   * Builds what `config.targets` needs beyond the current targets. Throws
   * `CONFIG_INVALID` naming the key (nothing changed then).
   */
  prepare(config: RelayConfig): PreparedTargets {
    const wanted = Object.entries(config.targets);
    const added: string[] = [];
    const replaced: string[] = [];
    const built = new Map<string, BuiltConfiguredTarget & { json: string }>();
    const discard = (): void => {
      for (const { endpoint } of built.values()) endpoint.close();
    };
    try {
      for (const [name, targetConfig] of wanted) {
        const json = JSON.stringify(targetConfig);
        const present = this.current.get(name);
        if (present?.json === json) continue;
        if (!present && this.registry.lookup(name)) {
          throw new RelayError('CONFIG_INVALID', `targets.${name}: the name is already taken by a connected target`);
        }
        built.set(name, { ...buildConfiguredTarget(name, targetConfig, config, this.logger, this.metrics), json });
        (present ? replaced : added).push(name);
      }
    } catch (error) {
      discard();
      throw error;
    }
    const names = new Set(wanted.map(([name]) => name));
    const removed = [...this.current.keys()].filter((name) => !names.has(name));
    let settled = false;
    return {
      changes: { added, removed, replaced },
      commit: () => {
        if (settled) return;
        settled = true;
        for (const name of [...removed, ...replaced]) this.retire(name);
        for (const [name, { target, endpoint, json }] of built) {
          const remove = this.registry.provide(target, endpoint);
          this.current.set(name, { json, endpoint, remove });
          this.logger.info({ target: name, kind: target.kind, address: target.address }, 'configured target');
        }
      },
      discard: () => {
        if (settled) return;
        settled = true;
        discard();
      },
    };
  }

  /** Adds the targets of `config` (at start); throws `CONFIG_INVALID` naming the key. */
  start(config: RelayConfig): void {
    this.prepare(config).commit();
  }

  /** Removes every configured target and closes every endpoint now. */
  close(): void {
    for (const name of [...this.current.keys()]) this.retire(name);
    for (const retired of [...this.retired]) {
      clearInterval(retired.timer);
      retired.endpoint.close();
    }
    this.retired.clear();
  }

  /**
   * Takes `name` out of the registry; its endpoint closes once no session uses it (the
   * entry's `sessions`, which the registry reads from the relay's session table).
   */
  private retire(name: string): void {
    const present = this.current.get(name);
    if (!present) return;
    this.current.delete(name);
    const entry: TargetEntry | undefined = this.registry.lookup(name);
    present.remove();
    this.logger.info({ target: name }, 'configured target removed');
    if (!entry || entry.sessions === 0) return present.endpoint.close();
    const retired: { endpoint: TargetEndpoint; timer?: NodeJS.Timeout } = { endpoint: present.endpoint };
    retired.timer = setInterval(() => {
      if (entry.sessions > 0) return;
      clearInterval(retired.timer);
      this.retired.delete(retired);
      present.endpoint.close();
    }, retiredCheckMs);
    retired.timer.unref();
    this.retired.add(retired);
  }
}
