import { deframer, frame } from './dapFrames.js';
import { sourceAddress } from './sourceAddress.js';
import { dial, type Channel, type ScaleEndpoint } from './wire.js';

/** Client sessions of one worker: where they go, and how hard they are driven. */
export interface SessionPlan {
  readonly endpoint: ScaleEndpoint;
  /** One target per session (`raw`: sessions dial the endpoint as a plain TLS proxy and these are ignored). */
  readonly targets: readonly string[];
  readonly raw: boolean;
  /** Index of the first session, for source addresses distinct across workers. */
  readonly from: number;
}

/** When and how fast the opened sessions send requests. */
export interface DrivePlan {
  /** Epoch milliseconds at which every session starts sending. */
  readonly startAt: number;
  /** Requests in the first `warmupMs` are sent but not counted. */
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Requests per second of each session, open loop with a random phase. */
  readonly ratePerSession: number;
}

/** What a worker measured while driving its sessions. */
export interface DriveResult {
  /** Round-trip times (ms) of the requests sent within the measured window. */
  readonly latenciesMs: number[];
  /** Requests sent within the measured window. */
  readonly requests: number;
  /** Requests of the window with no answer 2 s after it ended. */
  readonly unanswered: number;
}

/** One open client session sending `threads` requests. */
class ClientSession {
  private seq = 0;
  private readonly sentAt = new Map<number, number>();
  private readonly waiting = new Map<number, () => void>();
  window: { from: number; to: number } = { from: 0, to: 0 };
  readonly latenciesMs: number[] = [];
  requests = 0;

  constructor(private readonly channel: Channel) {
    channel.onBytes(
      deframer((message) => {
        if (message['type'] !== 'response') return;
        const requestSeq = Number(message['request_seq']);
        const sent = this.sentAt.get(requestSeq);
        this.sentAt.delete(requestSeq);
        this.waiting.get(requestSeq)?.();
        this.waiting.delete(requestSeq);
        if (sent !== undefined && sent >= this.window.from && sent < this.window.to) this.latenciesMs.push(performance.now() - sent);
      }),
    );
  }

  /** Sends a request and resolves with its answer. */
  ask(command: string, args: object = {}): Promise<void> {
    return new Promise((resolve) => {
      const seq = this.send(command, args);
      this.waiting.set(seq, resolve);
    });
  }

  /** Sends a request without waiting; returns its seq. */
  send(command: string, args: object = {}): number {
    const seq = ++this.seq;
    const now = performance.now();
    this.sentAt.set(seq, now);
    if (now >= this.window.from && now < this.window.to) this.requests += 1;
    this.channel.sendBytes(frame({ seq, type: 'request', command, arguments: args }));
    return seq;
  }

  /** Requests of the window not answered yet. */
  unanswered(): number {
    let count = 0;
    for (const sent of this.sentAt.values()) if (sent >= this.window.from && sent < this.window.to) count += 1;
    return count;
  }

  close(): void {
    this.channel.close();
  }
}

let sessions: ClientSession[] = [];

/** Opens the plan's sessions (each answers `initialize` before it counts as open); resolves with how many opened and why others did not. */
export async function openSessions(plan: SessionPlan): Promise<{ opened: number; failures: Record<string, number> }> {
  const failures: Record<string, number> = {};
  const count = plan.targets.length;
  const opened = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      try {
        const opening = plan.raw ? ({ op: 'raw' } as const) : ({ op: 'attach', target: plan.targets[i]! } as const);
        const session = new ClientSession(await dial(plan.endpoint, opening, sourceAddress(plan.from + i, 101), 30_000));
        await session.ask('initialize', { clientID: 'scale-bench', adapterID: 'debugpy' });
        return session;
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        failures[reason] = (failures[reason] ?? 0) + 1;
        return undefined;
      }
    }),
  );
  sessions = opened.filter((session): session is ClientSession => session !== undefined);
  return { opened: sessions.length, failures };
}

/** Drives the open sessions as `plan` says and resolves with what was measured. */
export async function driveSessions(plan: DrivePlan): Promise<DriveResult> {
  const origin = performance.now() - Date.now();
  const start = plan.startAt + origin;
  const window = { from: start + plan.warmupMs, to: start + plan.warmupMs + plan.durationMs };
  const intervalMs = 1000 / plan.ratePerSession;
  const timers: NodeJS.Timeout[] = [];
  for (const session of sessions) {
    session.window = window;
    session.requests = 0;
    const phase = Math.random() * intervalMs;
    timers.push(
      setTimeout(
        () => {
          session.send('threads');
          timers.push(setInterval(() => session.send('threads'), intervalMs));
        },
        Math.max(0, start - performance.now() + phase),
      ),
    );
  }
  await new Promise((resolve) => setTimeout(resolve, window.to - performance.now()));
  for (const timer of timers) clearTimeout(timer);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  return {
    latenciesMs: sessions.flatMap((session) => session.latenciesMs.splice(0)),
    requests: sessions.reduce((sum, session) => sum + session.requests, 0),
    unanswered: sessions.reduce((sum, session) => sum + session.unanswered(), 0),
  };
}

/** Closes every open session. */
export function closeSessions(): void {
  for (const session of sessions.splice(0)) session.close();
}
