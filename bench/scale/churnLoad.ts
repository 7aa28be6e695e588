import { deframer, frame } from './dapFrames.js';
import { SimulatedAgent, type SwarmStats } from './simulatedAgent.js';
import { sourceAddress } from './sourceAddress.js';
import { dial, type ScaleEndpoint } from './wire.js';

/** One worker's share of the churn: agents coming and going, sessions attaching and detaching. */
export interface ChurnPlan {
  readonly endpoint: ScaleEndpoint;
  readonly prefix: string;
  /** Index of this worker's first agent (names and source addresses distinct across workers). */
  readonly from: number;
  /** Agents this worker keeps connected at any time. */
  readonly agents: number;
  /** Agents stopped and replaced by new ones (new names) every second. */
  readonly replacePerSecond: number;
  /** Sessions opened every second: attach, `initialize`, `threads`, then detach. */
  readonly sessionsPerSecond: number;
  readonly durationMs: number;
}

/** What a worker's churn did. */
export interface ChurnResult {
  readonly replaced: number;
  readonly sessions: number;
  readonly sessionFailures: Record<string, number>;
}

/** A session's whole life: attach to `target`, two requests answered, then close. */
async function shortSession(endpoint: ScaleEndpoint, target: string, source: string): Promise<void> {
  const channel = await dial(endpoint, { op: 'attach', target }, source, 10_000);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer within 10 s')), 10_000);
      let answers = 0;
      channel.onBytes(
        deframer((message) => {
          if (message['type'] !== 'response') return;
          answers += 1;
          if (answers === 1) channel.sendBytes(frame({ seq: 2, type: 'request', command: 'threads', arguments: {} }));
          else {
            clearTimeout(timer);
            resolve();
          }
        }),
      );
      channel.sendBytes(frame({ seq: 1, type: 'request', command: 'initialize', arguments: { clientID: 'scale-churn', adapterID: 'debugpy' } }));
    });
  } finally {
    channel.close();
  }
}

/**
 * Runs `plan` for its duration: keeps `agents` agents up while replacing
 * `replacePerSecond` of them by new ones each second, and opens `sessionsPerSecond`
 * short sessions to agents connected for at least five seconds. Stops every agent at the end.
 */
export async function runChurn(plan: ChurnPlan, stats: SwarmStats): Promise<ChurnResult> {
  const live: Array<{ agent: SimulatedAgent; since: number }> = [];
  let next = plan.from;
  const startOne = (): void => {
    const agent = new SimulatedAgent(plan.endpoint, `${plan.prefix}-${next}`, sourceAddress(next % 1_000_000, 1), stats);
    next += 1;
    agent.start();
    live.push({ agent, since: Date.now() });
  };
  for (let i = 0; i < plan.agents; i++) startOne();
  let replaced = 0;
  let sessions = 0;
  let sessionIndex = plan.from;
  const sessionFailures: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  const replaceTimer = setInterval(() => {
    for (let i = 0; i < plan.replacePerSecond && live.length > 0; i++) {
      live.shift()!.agent.stop();
      startOne();
      replaced += 1;
    }
  }, 1_000);
  const sessionTimer = setInterval(() => {
    const settled = live.filter((one) => Date.now() - one.since > 5_000);
    if (settled.length === 0) return;
    const target = settled[Math.floor(Math.random() * settled.length)]!.agent.name;
    const running = shortSession(plan.endpoint, target, sourceAddress(sessionIndex++ % 1_000_000, 101)).then(
      () => void (sessions += 1),
      (error: unknown) => {
        const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message.slice(0, 80);
        sessionFailures[reason] = (sessionFailures[reason] ?? 0) + 1;
      },
    );
    inFlight.add(running);
    void running.finally(() => inFlight.delete(running));
  }, 1000 / Math.max(1, plan.sessionsPerSecond));
  await new Promise((resolve) => setTimeout(resolve, plan.durationMs));
  clearInterval(replaceTimer);
  clearInterval(sessionTimer);
  await Promise.all(inFlight);
  for (const one of live.splice(0)) one.agent.stop();
  return { replaced, sessions, sessionFailures };
}
