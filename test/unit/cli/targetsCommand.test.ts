import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerTargetsCommand, truncationNote } from '../../../src/cli/targetsCommand.js';
import type { RegisterMessage } from '../../../src/protocol/controlMessages.js';
import type { AgentConnection } from '../../../src/agents/agentConnection.js';
import { makeCertificates, startTestRelay, type FixtureCertificates, type TestRelay } from '../../support/relay/relayFixture.js';

let certs: FixtureCertificates;
let test: TestRelay;
let caFile: string;

/** More targets than one page holds (labels of 2048 bytes: about 190 a page), so the command must follow `next`. */
const fleetSize = 600;
const names = Array.from({ length: fleetSize }, (_, i) => `svc-${String(i).padStart(4, '0')}`);
const labels = Object.fromEntries(Array.from({ length: 8 }, (_, k) => [`label-${k}`.padEnd(16, '-'), 'v'.repeat(240)]));

function registration(name: string): RegisterMessage {
  return { type: 'register', agentId: `agent-${name}`, target: { name, labels }, process: { pid: 7, host: 'h', python: '3.12.1', debugpy: '1.8.22', agent: '0.1.0' } };
}

const fakeEndpoint = (): AgentConnection =>
  ({ open: () => ({ transport: new Promise(() => undefined), cancel: () => undefined }), close: () => undefined }) as unknown as AgentConnection;

beforeAll(async () => {
  certs = makeCertificates();
  caFile = join(certs.dir, 'ca.pem');
  writeFileSync(caFile, certs.caPem);
  test = await startTestRelay(certs);
  for (const name of names) test.relay.registry.register(fakeEndpoint(), registration(name), 'tcps');
});

afterAll(async () => {
  await test?.close();
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** Runs `dbgrelay targets <args>` in-process; returns what it wrote. */
async function runTargets(scheme: 'wss' | 'tcps', args: string[]): Promise<{ stdout: string; stderr: string }> {
  const address = scheme === 'wss' ? test.relay.wssAddress! : test.relay.tcpsAddress!;
  vi.stubEnv('DBGRELAY_SECRET', test.secret);
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  const program = new Command().exitOverride();
  registerTargetsCommand(program);
  await program.parseAsync(['targets', '--relay', `${scheme}://127.0.0.1:${address.port}`, '--ca', caFile, ...args], { from: 'user' });
  return { stdout, stderr };
}

describe('dbgrelay targets over several pages (revision 1.9)', () => {
  it.each(['wss', 'tcps'] as const)('prints every target of a %s relay whose list takes several pages', async (scheme) => {
    const { stdout, stderr } = await runTargets(scheme, []);
    const rows = stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^NAME\s+KIND/);
    expect(rows.slice(1).map((row) => row.split(/\s+/)[0])).toEqual(names);
    expect(stderr).not.toMatch(/cut/);
  });

  it('prints every target as JSON with --json', async () => {
    const { stdout } = await runTargets('tcps', ['--json']);
    expect((JSON.parse(stdout) as Array<{ name: string }>).map((t) => t.name)).toEqual(names);
  });

  it('stops at --limit and says on stderr that the list was cut', async () => {
    const { stdout, stderr } = await runTargets('wss', ['--json', '--limit', '250']);
    expect((JSON.parse(stdout) as Array<{ name: string }>).map((t) => t.name)).toEqual(names.slice(0, 250));
    expect(stderr).toContain('dbgrelay targets: the list was cut after 250 targets by --limit 250; the relay has more');
  });

  it('says nothing is cut when --limit covers the whole list', async () => {
    const { stdout, stderr } = await runTargets('tcps', ['--json', '--limit', String(fleetSize)]);
    expect(JSON.parse(stdout)).toHaveLength(fleetSize);
    expect(stderr).not.toMatch(/cut/);
  });

  it('refuses a --limit that is not a positive whole number', async () => {
    await expect(runTargets('tcps', ['--limit', '0'])).rejects.toThrow(/positive whole number/);
  });

  it('names the page bound when that cut the list', () => {
    expect(truncationNote(40_000, undefined)).toMatch(/cut after 40000 targets by the bound of 500 pages/);
  });
});
