import { describe, expect, it } from 'vitest';
import { dapCommandLabel, knownDapCommands } from '../../../src/metrics/dapCommandLabel.js';
import { RelayMetrics } from '../../../src/metrics/relayMetrics.js';

describe('dapCommandLabel', () => {
  it('keeps the DAP and debugpy commands a VS Code session sends', () => {
    for (const command of ['initialize', 'attach', 'threads', 'stackTrace', 'evaluate', 'configurationDone', 'disconnect', 'debugpySystemInfo']) {
      expect(dapCommandLabel(command)).toBe(command);
    }
  });

  it('maps made-up, differently cased and non-string commands to "other"', () => {
    for (const command of ['x'.repeat(10_000), 'Initialize', 'THREADS', '__proto__', 'constructor', 'toString', '', 42, null, undefined, {}]) {
      expect(dapCommandLabel(command)).toBe('other');
    }
  });

  it('is a bounded set of plain identifiers', () => {
    expect(knownDapCommands.size).toBeLessThan(60);
    for (const command of knownDapCommands) expect(command).toMatch(/^[a-z][A-Za-z]+$/);
  });

  it('bounds the command label of dbgrelay_dap_requests_total however many commands a client invents', async () => {
    const metrics = new RelayMetrics();
    for (let i = 0; i < 500; i++) metrics.sessions.countMessage(true, 10, `made-up-${i}`);
    metrics.sessions.countMessage(true, 10, 'threads');
    metrics.sessions.countMessage(false, 99, 'threads'); // toward the client: never a client request
    const { values } = await metrics.sessions.requests.get();
    expect(values.map((value) => value.labels['command']).sort()).toEqual(['other', 'threads']);
    expect(await metrics.valueOf('dbgrelay_dap_requests_total', { command: 'other' })).toBe(500);
    expect(await metrics.valueOf('dbgrelay_dap_requests_total', { command: 'threads' })).toBe(1);
    expect(await metrics.valueOf('dbgrelay_relayed_bytes_total', { direction: 'client_to_target' })).toBe(5010);
    expect(await metrics.valueOf('dbgrelay_relayed_bytes_total', { direction: 'target_to_client' })).toBe(99);
  });
});
