import { readFileSync } from 'node:fs';
import { createServer as createTlsServer } from 'node:tls';
import { SimulatedAgent, SwarmStats } from './simulatedAgent.js';
import { closeSessions, driveSessions, openSessions, type DrivePlan, type SessionPlan } from './simulatedClients.js';
import { sourceAddress } from './sourceAddress.js';
import { standInDebuggee } from './dapFrames.js';
import type { ScaleEndpoint } from './wire.js';
import { runChurn, type ChurnPlan } from './churnLoad.js';

/**
 * One process of the load tool (started by `bench/scale.ts` at a lower priority than
 * the servers it measures), driven over IPC: simulated agents, simulated client
 * sessions, or the TLS stand-in debuggee that nginx forwards to.
 */

/** Commands the load tool sends a worker; each is answered with `{ id, ... }`. */
export type WorkerCommand =
  | { id: number; cmd: 'agents'; endpoint: ScaleEndpoint; prefix: string; from: number; count: number; perSecond: number }
  | { id: number; cmd: 'stats' }
  | { id: number; cmd: 'stopAgents' }
  | { id: number; cmd: 'resetCounters' }
  | { id: number; cmd: 'standIn'; certFile: string; keyFile: string }
  | { id: number; cmd: 'openSessions'; plan: SessionPlan }
  | { id: number; cmd: 'drive'; plan: DrivePlan }
  | { id: number; cmd: 'closeSessions' }
  | { id: number; cmd: 'churn'; plan: ChurnPlan };

const stats = new SwarmStats();
const agents: SimulatedAgent[] = [];

function reply(id: number, body: object): void {
  process.send!({ id, ...body });
}

function addAgents(command: Extract<WorkerCommand, { cmd: 'agents' }>): void {
  const created: SimulatedAgent[] = [];
  for (let i = command.from; i < command.from + command.count; i++) {
    created.push(new SimulatedAgent(command.endpoint, `${command.prefix}-${i}`, sourceAddress(i, 1), stats));
  }
  agents.push(...created);
  if (command.perSecond <= 0) {
    for (const agent of created) agent.start();
    return;
  }
  const perTick = Math.max(1, Math.round(command.perSecond / 100));
  let next = 0;
  const ticker = setInterval(() => {
    for (const agent of created.slice(next, next + perTick)) agent.start();
    next += perTick;
    if (next >= created.length) clearInterval(ticker);
  }, 10);
}

function startStandIn(command: Extract<WorkerCommand, { cmd: 'standIn' }>): void {
  const server = createTlsServer({ cert: readFileSync(command.certFile), key: readFileSync(command.keyFile) }, (socket) => {
    socket.setNoDelay(true);
    socket.on(
      'data',
      standInDebuggee((bytes) => socket.write(bytes)),
    );
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1', () => reply(command.id, { port: (server.address() as { port: number }).port }));
}

process.on('message', (command: WorkerCommand) => {
  switch (command.cmd) {
    case 'agents':
      addAgents(command);
      return reply(command.id, {});
    case 'stats':
      return reply(command.id, {
        registered: stats.registered,
        registrations: stats.registrations,
        sessionsOpened: stats.sessionsOpened,
        failures: Object.fromEntries(stats.failures),
        perSecond: Object.fromEntries(stats.perSecond),
        attemptsPerSecond: Object.fromEntries(stats.attemptsPerSecond),
      });
    case 'stopAgents':
      for (const agent of agents.splice(0)) agent.stop();
      stats.reset();
      return reply(command.id, {});
    case 'resetCounters':
      stats.reset();
      return reply(command.id, {});
    case 'standIn':
      return startStandIn(command);
    case 'openSessions':
      return void openSessions(command.plan).then((result) => reply(command.id, result));
    case 'drive':
      return void driveSessions(command.plan).then((result) => reply(command.id, result));
    case 'closeSessions':
      closeSessions();
      return reply(command.id, {});
    case 'churn':
      return void runChurn(command.plan, stats).then((result) => reply(command.id, result));
  }
});
process.on('disconnect', () => process.exit(0));
