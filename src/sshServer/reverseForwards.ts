import type { Connection } from 'ssh2';
import { isRelayError } from '../common/relayError.js';
import { DialedEndpoint } from '../targets/dialedEndpoint.js';
import type { TargetRegistry } from '../targets/targetRegistry.js';
import { openForwardedChannel, type RemoteForward } from './forwardedChannel.js';

/** Who asks to register a target: one authenticated SSH connection. */
export interface ForwardOwner {
  /** Id of the SSH connection (log field `connection`). */
  readonly connectionId: string;
  readonly connection: Connection;
  /** Fingerprint of the key the connection authenticated with. */
  readonly keyFingerprint: string;
  /** The client's IP address. */
  readonly ip: string;
}

/** Outcome of {@link ReverseForwards.add}. */
export type AddOutcome = { readonly ok: true; readonly replaced: boolean; readonly release: () => boolean } | { readonly ok: false; readonly reason: string };

interface Holder {
  readonly owner: ForwardOwner;
  readonly endpoint: DialedEndpoint;
}

/**
 * The targets SSH clients provide with remote forwards, kept in the relay's target
 * registry as kind `ssh-reverse`. Each attach opens a `forwarded-tcpip` channel on the
 * owner's connection, inside a {@link DialedEndpoint} (open timeout, adapter settling,
 * reachability). A name held by a live forward is given to a new connection only when
 * it authenticated with the same key (a host reconnecting before its old connection
 * was found dead); a different key, an agent's or a configured target's name is refused.
 */
export class ReverseForwards {
  private readonly holders = new Map<string, Holder>();

  constructor(
    private readonly registry: Pick<TargetRegistry, 'provide' | 'lookup'>,
    private readonly options: { readonly openTimeoutMs: number },
  ) {}

  /** Registers target `name` for `forward` on `owner`'s connection. */
  add(name: string, forward: RemoteForward, owner: ForwardOwner): AddOutcome {
    const current = this.registry.lookup(name);
    const mine = this.holders.get(name);
    const heldByForward = current !== undefined && mine !== undefined && current.endpoint === mine.endpoint;
    if (heldByForward) {
      if (mine.owner.keyFingerprint !== owner.keyFingerprint) return { ok: false, reason: `target "${name}" is held by an ssh -R connection with another key` };
      if (mine.owner.connectionId === owner.connectionId) return { ok: false, reason: `target "${name}" is already forwarded on this connection` };
    }
    const endpoint = new DialedEndpoint((signal) => openForwardedChannel(owner.connection, forward, `ssh-R:${name}@${owner.ip}`, signal), {
      openTimeoutMs: this.options.openTimeoutMs,
    });
    let remove: () => boolean;
    try {
      remove = this.registry.provide({ name, kind: 'ssh-reverse', host: owner.ip, transport: 'ssh', address: `ssh -R from ${owner.ip} (key ${owner.keyFingerprint})` }, endpoint, {
        replace: heldByForward,
      });
    } catch (error) {
      if (isRelayError(error, 'TARGET_NAME_IN_USE')) return { ok: false, reason: `${error.message} (${error.code})` };
      throw error;
    }
    this.holders.set(name, { owner, endpoint });
    const release = (): boolean => {
      if (this.holders.get(name)?.endpoint === endpoint) this.holders.delete(name);
      const removed = remove();
      endpoint.close();
      return removed;
    };
    return { ok: true, replaced: heldByForward, release };
  }
}
