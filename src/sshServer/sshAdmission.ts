import { sourceOf } from '../auth/sourceAddress.js';
import type { SshServerConfig } from '../config/sshServerConfigSchema.js';
import type { SshServerMetrics, SshServerRefusalReason } from '../metrics/sshServerMetrics.js';
import { PreAuthConnections, type PreAuthTicket } from '../net/preAuthConnections.js';
import { startupDrop } from './maxStartups.js';

/** One admitted SSH connection, from accept to close. */
export interface SshStartup {
  /**
   * It authenticated: it stops counting against `maxStartups` and counts against
   * `maxConnections`; false (counted as a refusal) when that is full: end it.
   */
  authenticated(): boolean;
  /** It closed (once; later calls do nothing). */
  closed(): void;
}

/**
 * The built-in SSH server's connection caps (docs/operations.md "Caps before
 * authentication"): connections not yet authenticated are held to
 * `sshServer.maxStartups` (random early drop, as OpenSSH) and to
 * `sshServer.maxStartupsPerSource` from one IPv4 address or IPv6 /64, both at accept;
 * authenticated ones to `sshServer.maxConnections`, at authentication. So bare TCP
 * connections never take the room of hosts that authenticate.
 */
export class SshAdmission {
  private readonly startups: PreAuthConnections;
  private authenticatedCount = 0;

  /** `random` returns a number in [0, 1) for the early drop (tests inject one). */
  constructor(
    private readonly settings: Pick<SshServerConfig, 'maxConnections' | 'maxStartups' | 'maxStartupsPerSource'>,
    private readonly random: () => number = Math.random,
    private readonly metrics?: SshServerMetrics,
  ) {
    this.startups = new PreAuthConnections({
      maxUnauthenticatedConnections: settings.maxStartups.full,
      maxUnauthenticatedPerSource: settings.maxStartupsPerSource,
    });
  }

  /** Connections not yet authenticated. */
  get unauthenticated(): number {
    return this.startups.count;
  }

  /** Authenticated connections. */
  get authenticated(): number {
    return this.authenticatedCount;
  }

  /** Admits a connection just accepted from `ip`, or counts its refusal and returns undefined. */
  admit(ip: string): SshStartup | undefined {
    const drop = startupDrop(this.startups.count, this.settings.maxStartups, this.random);
    if (drop) return this.refuse(drop === 'full' ? 'maxStartupsFull' : 'maxStartupsEarlyDrop');
    const ticket = this.startups.admit(sourceOf(ip));
    if (typeof ticket === 'string') return this.refuse(ticket === 'maxUnauthenticatedPerSource' ? 'maxStartupsPerSource' : 'maxStartupsFull');
    this.gauge();
    return this.startup(ticket);
  }

  private startup(ticket: PreAuthTicket): SshStartup {
    let state: 'startup' | 'authenticated' | 'refused' | 'closed' = 'startup';
    return {
      authenticated: () => {
        if (state !== 'startup') return state === 'authenticated';
        ticket.release();
        this.gauge();
        if (this.authenticatedCount >= this.settings.maxConnections) {
          state = 'refused';
          this.metrics?.refusals.inc({ reason: 'maxConnections' });
          return false;
        }
        state = 'authenticated';
        this.authenticatedCount += 1;
        return true;
      },
      closed: () => {
        if (state === 'startup') ticket.release();
        if (state === 'authenticated') this.authenticatedCount -= 1;
        state = 'closed';
        this.gauge();
      },
    };
  }

  private refuse(reason: SshServerRefusalReason): undefined {
    this.metrics?.refusals.inc({ reason });
    return undefined;
  }

  private gauge(): void {
    this.metrics?.unauthenticated.set(this.startups.count);
  }
}
