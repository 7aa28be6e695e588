import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AuditEvent, AuditSink } from '../../../src/audit/auditEvent.js';
import { allGrants } from '../../../src/auth/grants.js';
import type { Principal } from '../../../src/auth/principal.js';
import { formatTargetsTable, targetStatus } from '../../../src/cli/targetsCommand.js';
import { RelayError } from '../../../src/common/relayError.js';
import { AgentHub } from '../../../src/agents/agentHub.js';
import type { AgentConnection } from '../../../src/agents/agentConnection.js';
import { MemoryControlChannel } from '../../../src/agents/memoryControlChannel.js';
import { TargetRegistry } from '../../../src/targets/targetRegistry.js';

const principal: Principal = { id: 'relay-secret', grants: allGrants, method: 'secret' };
const logger = pino({ level: 'silent' });
const tick = (ms = 5): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const limits = { handshakeTimeoutMs: 1_000, heartbeatIntervalMs: 10_000, heartbeatTimeoutMs: 20_000, openTimeoutMs: 1_000, maxPendingOpens: 4 };
const register = { type: 'register', agentId: 'id-1', target: { name: 'web-1' }, process: { pid: 42, host: 'h1', python: '3', debugpy: '1.8.22', agent: '0' } };

function setup(audit: AuditSink) {
  const registry = new TargetRegistry<AgentConnection>();
  const hub = new AgentHub(registry, limits, logger, undefined, undefined, audit);
  const [relaySide, agentSide] = MemoryControlChannel.pair('tcps');
  const received: Array<{ type: string; code?: string }> = [];
  agentSide.onMessage((m) => received.push(m as (typeof received)[number]));
  hub.accept(relaySide, principal);
  agentSide.send(register);
  return { registry, agentSide, received, relaySide };
}

describe('the debuggee pause guard on the relay (protocol revision 1.8)', () => {
  it('audits and logs a guard resume with the target and process', async () => {
    const records: AuditEvent[] = [];
    const { agentSide, relaySide } = setup({ record: (event) => records.push(event) });
    await tick();
    agentSide.send({ type: 'guard', event: 'resumed', reason: 'paused longer than unowned_pause (30 s) with no live session: x', pausedMs: 30_250 });
    await tick();
    expect(records).toEqual([
      {
        event: 'guard.resumed',
        target: 'web-1',
        agentId: 'id-1',
        pid: 42,
        host: 'h1',
        reason: 'paused longer than unowned_pause (30 s) with no live session: x',
        pausedMs: 30_250,
      },
    ]);
    expect(relaySide.closed).toBe(false);
  });

  it('keeps going when the audit log cannot be written', async () => {
    const { agentSide, relaySide, registry } = setup({
      record: () => {
        throw new RelayError('AUDIT_UNAVAILABLE', 'disk full');
      },
    });
    await tick();
    agentSide.send({ type: 'guard', event: 'resumed', reason: 'r', pausedMs: 1 });
    await tick();
    expect(relaySide.closed).toBe(false);
    expect(registry.list()).toHaveLength(1);
  });

  it('shows the last debugger status in the target list and in `dbgrelay targets`', async () => {
    const { agentSide, registry } = setup({ record: () => undefined });
    await tick();
    expect(registry.list()[0]).not.toHaveProperty('debugger');
    agentSide.send({ type: 'status', debugger: 'broken', detail: "pydevd's reader thread is not running" });
    await tick();
    const [entry] = registry.list();
    expect(entry).toMatchObject({ name: 'web-1', debugger: 'broken', detail: "pydevd's reader thread is not running" });
    expect(targetStatus(entry!)).toBe("connected, DEBUGGER BROKEN: pydevd's reader thread is not running");
    expect(formatTargetsTable(registry.list())).toContain('DEBUGGER BROKEN');
    agentSide.send({ type: 'status', debugger: 'ok' });
    await tick();
    expect(registry.list()[0]).toMatchObject({ debugger: 'ok' });
    expect(registry.list()[0]).not.toHaveProperty('detail');
    expect(targetStatus(registry.list()[0]!)).toBe('connected');
    agentSide.send({ type: 'status', debugger: 'unguarded', detail: 'debugpy 1.9.0 is not a version the pause guard was tested with' });
    await tick();
    expect(targetStatus(registry.list()[0]!)).toBe('connected, no pause guard: debugpy 1.9.0 is not a version the pause guard was tested with');
  });

  it('closes the control connection on a malformed guard or status message', async () => {
    for (const bad of [
      { type: 'guard', event: 'resumed', reason: 'r', pausedMs: -1 },
      { type: 'status', debugger: 'sleepy' },
    ]) {
      const { agentSide, received } = setup({ record: () => undefined });
      await tick();
      agentSide.send(bad);
      await tick();
      expect(received.at(-1)).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    }
  });
});
