import type { DebugProtocol } from '@vscode/debugprotocol';
import pino from 'pino';
import { vi } from 'vitest';
import type { AuditEvent, AuditSink } from '../../../src/audit/auditEvent.js';
import { RelayError } from '../../../src/common/relayError.js';
import { allGrants } from '../../../src/auth/grants.js';
import { grantsFromScopes } from '../../../src/protocol/scopes.js';
import type { Principal } from '../../../src/auth/principal.js';
import { DapPipe, type DapPipeCloseReason } from '../../../src/dap/dapPipe.js';
import type { GuardedSession } from '../../../src/session/guardedSession.js';
import { SessionGuards, type SessionGuardsOptions } from '../../../src/session/sessionGuards.js';
import { MemoryTransport } from '../../../src/transport/memoryTransport.js';
import { DapReader } from '../dap/dapReader.js';

/** Collects audit records in memory; `failing` makes every record throw like a broken disk. */
export class MemoryAuditSink implements AuditSink {
  readonly records: AuditEvent[] = [];
  failing = false;
  record(event: AuditEvent): void {
    if (this.failing) {
      throw new RelayError('AUDIT_UNAVAILABLE', 'cannot write the audit log (ENOSPC)');
    }
    this.records.push(event);
  }
  named(name: string): AuditEvent[] {
    return this.records.filter((r) => r.event === name);
  }
}

/** A principal for tests. */
export function principal(id: string, scopes: string[] = ['attach:*']): Principal {
  return { id, grants: scopes.includes('*') ? allGrants : grantsFromScopes(scopes), method: 'jwt' };
}

/** Waits for the in-memory transports (setImmediate hops) to settle. */
export async function settle(rounds = 6): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Options for {@link openGuardedSession}. */
export interface HarnessOptions extends Partial<Omit<SessionGuardsOptions, 'audit' | 'logger'>> {
  readonly principal?: Principal;
  readonly target?: string;
  /** The fake adapter answers every request with success (default true). */
  readonly autoAnswer?: boolean;
  readonly guards?: SessionGuards;
  readonly audit?: MemoryAuditSink;
  readonly takeover?: boolean;
  /** The session's logger (default: silent). */
  readonly logger?: pino.Logger;
}

/** One guarded session over in-memory transports, with a fake adapter. */
export interface Harness {
  readonly guards: SessionGuards;
  readonly session: GuardedSession;
  readonly pipe: DapPipe;
  readonly client: DapReader;
  readonly adapter: DapReader;
  readonly audit: MemoryAuditSink;
  readonly closed: Promise<DapPipeCloseReason>;
  /** Sends a client request and returns the response the client got. */
  request(command: string, args?: unknown): Promise<DebugProtocol.Response>;
}

const logger = pino({ level: 'silent' });

/** Relay-wide guards for tests with an in-memory audit sink. */
export function testGuards(options: HarnessOptions = {}, audit = new MemoryAuditSink()): SessionGuards {
  return new SessionGuards({
    policies: options.policies ?? { default: 'full', targets: {}, principals: {} },
    pauseWatchdog: options.pauseWatchdog ?? { maxPauseMs: 0, targets: {} },
    sessions: options.sessions ?? { exclusive: true, detachTimeoutMs: 500, takeoverTimeoutMs: 1_000 },
    audit,
    maxAuditValueChars: options.maxAuditValueChars ?? 4096,
    auditBounds: options.auditBounds ?? { maxRecordBytes: 16 * 1024, maxBytesPerSessionPerMinute: 512 * 1024 },
    logger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
}

let clientSeq = 1;

/** Opens a guarded session the way the broker does, and a fake adapter behind it. */
export async function openGuardedSession(options: HarnessOptions = {}): Promise<Harness> {
  const audit = options.audit ?? new MemoryAuditSink();
  const guards = options.guards ?? testGuards(options, audit);
  const session = await guards.admit(
    {
      session: `s${clientSeq}`,
      principal: options.principal ?? principal('jwt:alice'),
      target: options.target ?? 'web-1',
      via: 'tcps',
      clientAddress: '127.0.0.1:5000',
      ...(options.takeover ? { takeover: true } : {}),
    },
    options.logger ?? logger,
  );
  session.opened();
  const [clientEnd, clientRelaySide] = MemoryTransport.pair();
  const [adapterRelaySide, adapterEnd] = MemoryTransport.pair();
  const pipe = new DapPipe(clientRelaySide, adapterRelaySide, { maxMessageBytes: 1 << 20, ...session.pipeOptions(), onClose: (reason) => session.closed(reason) });
  session.bind(pipe);
  session.onEvict(async () => {
    pipe.close();
    await pipe.closed;
  });
  const client = new DapReader(clientEnd);
  const adapter = new DapReader(adapterEnd);
  if (options.autoAnswer !== false) {
    let adapterSeq = 1;
    const answered = new Set<number>();
    const answerAll = (): void => {
      for (const request of adapter.requests()) {
        if (answered.has(request.seq)) continue;
        answered.add(request.seq);
        adapter.send({ type: 'response', seq: adapterSeq++, request_seq: request.seq, command: request.command, success: true, body: {} });
      }
    };
    const timer = setInterval(answerAll, 1);
    void pipe.closed.then(() => clearInterval(timer));
  }
  const request = async (command: string, args?: unknown): Promise<DebugProtocol.Response> => {
    const seq = clientSeq++;
    client.send({ type: 'request', seq, command, ...(args !== undefined ? { arguments: args } : {}) });
    return vi.waitFor(
      () => {
        const response = client.responses().find((r) => r.request_seq === seq);
        if (!response) throw new Error(`no response to ${command}`);
        return response;
      },
      { timeout: 1_000, interval: 2 },
    );
  };
  return { guards, session, pipe, client, adapter, audit, closed: pipe.closed, request };
}

/**
 * Guarded sessions a test file opens and closes after each test: `open` is
 * {@link openGuardedSession} that remembers the harness, `closeAll` (for `afterEach`)
 * closes every remembered one and waits for it.
 */
export function trackedSessions(): { open: typeof openGuardedSession; closeAll: () => Promise<void> } {
  const harnesses: Harness[] = [];
  return {
    open: async (...args) => {
      const h = await openGuardedSession(...args);
      harnesses.push(h);
      return h;
    },
    closeAll: async () => {
      for (const h of harnesses.splice(0)) {
        h.pipe.close();
        await h.closed;
      }
    },
  };
}
