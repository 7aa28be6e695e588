import { randomUUID } from 'node:crypto';
import { AgentBackoff } from './agentBackoff.js';
import { standInDebuggee } from './dapFrames.js';
import { dial, Refused, type Channel, type ScaleEndpoint } from './wire.js';

/** The agent's bounds on one attempt (agent-py/dbgrelay/bridge/control.py): connect and hello, then `registered`. */
const openTimeoutMs = 15_000;
const registeredTimeoutMs = 10_000;
/** Refusals the agent logs as warnings and retries (`TRANSIENT_REFUSALS`); any other refusal is an error. */
const transientRefusals = new Set(['RELAY_DRAINING', 'LIMIT_REACHED']);

/** What the agents of one worker count, read by the load tool. */
export class SwarmStats {
  registered = 0;
  registrations = 0;
  /** Attempts that did not end registered, by what the agent would log: `warning:<reason>` or `error:<code>`. */
  readonly failures = new Map<string, number>();
  /** Registrations per wall-clock second (epoch seconds). */
  readonly perSecond = new Map<number, number>();
  /** Control connections dialed per wall-clock second (epoch seconds): the load the agents put on the relay. */
  readonly attemptsPerSecond = new Map<number, number>();
  sessionsOpened = 0;

  /** Forgets the counts of attempts and registrations (not who is registered now). */
  reset(): void {
    this.failures.clear();
    this.perSecond.clear();
    this.attemptsPerSecond.clear();
    this.registrations = 0;
  }

  failed(reason: string): void {
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
  }

  attempted(): void {
    const second = Math.floor(Date.now() / 1000);
    this.attemptsPerSecond.set(second, (this.attemptsPerSecond.get(second) ?? 0) + 1);
  }

  registeredNow(): void {
    this.registered += 1;
    this.registrations += 1;
    const second = Math.floor(Date.now() / 1000);
    this.perSecond.set(second, (this.perSecond.get(second) ?? 0) + 1);
  }
}

/** The class of a failed attempt as the agent logs it. */
function failureOf(error: unknown): string {
  if (error instanceof Refused) return transientRefusals.has(error.code) ? `warning:${error.code}` : `error:${error.code}`;
  const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) return `error:TLS_VERIFY_FAILED`;
  return `warning:${code}`;
}

/**
 * One simulated agent: registers `name`, answers pings, opens a data connection for
 * every `open` and answers its DAP at once like a stand-in debuggee, and reconnects
 * with the agent's own backoff whenever its control connection is lost or refused.
 */
export class SimulatedAgent {
  private readonly backoff = new AgentBackoff();
  private readonly agentId = randomUUID();
  private channel: Channel | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly endpoint: ScaleEndpoint,
    readonly name: string,
    private readonly localAddress: string,
    private readonly stats: SwarmStats,
  ) {}

  /** Starts the first attempt now. */
  start(): void {
    void this.attempt();
  }

  /** Drops the connection and makes no further attempt. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.channel?.close();
  }

  private retryLater(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.attempt(), this.backoff.nextDelayMs());
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    this.stats.attempted();
    let channel: Channel;
    try {
      channel = await dial(this.endpoint, { op: 'agent' }, this.localAddress, openTimeoutMs);
    } catch (error) {
      this.stats.failed(failureOf(error));
      return this.retryLater();
    }
    if (this.stopped) return channel.close();
    this.channel = channel;
    let registered = false;
    let refused = false;
    let silence: NodeJS.Timeout | undefined;
    let silenceMs = registeredTimeoutMs;
    const heard = (): void => {
      clearTimeout(silence);
      silence = setTimeout(() => channel.close(), silenceMs);
    };
    heard();
    channel.onText((text) => {
      heard();
      const message = JSON.parse(text) as Record<string, any>;
      if (message['type'] === 'registered') {
        registered = true;
        silenceMs = Number(message['heartbeat']['timeoutMs']);
        heard();
        this.backoff.reset();
        this.stats.registeredNow();
      } else if (message['type'] === 'ping') {
        channel.sendText(JSON.stringify({ type: 'pong', id: message['id'] }));
      } else if (message['type'] === 'open') {
        void this.openSession(String(message['sessionId']));
      } else if (message['type'] === 'error' && !registered && !refused) {
        refused = true;
        this.stats.failed(failureOf(new Refused(String(message['code']))));
      }
    });
    channel.onClose(() => {
      clearTimeout(silence);
      if (this.channel === channel) this.channel = undefined;
      if (registered) this.stats.registered -= 1;
      else if (!refused) this.stats.failed('warning:closed before registered');
      this.retryLater();
    });
    channel.sendText(
      JSON.stringify({
        type: 'register',
        agentId: this.agentId,
        target: { name: this.name, labels: { fleet: 'scale' } },
        process: { pid: process.pid, host: `sim-${this.localAddress}`, python: '3.12.1', debugpy: '1.8.22', agent: '0.1.0' },
      }),
    );
  }

  private async openSession(sessionId: string): Promise<void> {
    try {
      const data = await dial(this.endpoint, { op: 'agentData', sessionId }, this.localAddress, openTimeoutMs);
      data.onBytes(standInDebuggee((bytes) => data.sendBytes(bytes)));
      this.stats.sessionsOpened += 1;
    } catch (error) {
      this.channel?.sendText(JSON.stringify({ type: 'openFailed', sessionId, message: String(error).slice(0, 200) }));
    }
  }
}
