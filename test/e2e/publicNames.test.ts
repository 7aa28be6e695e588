import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startDebuggee, type Debuggee } from '../support/processes/debuggee.js';
import { runDbgrelay, type CliProcess } from '../support/processes/cliProcess.js';

/**
 * Two machines on one: the relay listens on a second loopback address (127.0.0.2), which
 * its quick-start certificate (localhost, 127.0.0.1, ::1) does not name, as a relay's
 * public address would not be. A real agent and `dbgrelay targets` dialing that address
 * fail with a message naming --public-name; after `dbgrelay serve --public-name
 * 127.0.0.2` (same data directory, same CA) both get through. The built CLI, a real
 * Python agent.
 */
const publicAddress = '127.0.0.2';
const children: ChildProcess[] = [];
const debuggees: Debuggee[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const debuggee of debuggees.splice(0)) debuggee.kill();
});

function dbgrelay(args: string[], env: Record<string, string> = {}): CliProcess {
  const run = runDbgrelay(args, env, { built: true });
  children.push(run.child);
  return run;
}

/** `dbgrelay serve` with both listeners on the public address; resolves with its ports and the CA fingerprint it printed. */
async function serve(dataDir: string, args: string[]): Promise<{ serve: CliProcess; wssPort: string; tcpsPort: string; caFingerprint: string; covers: string }> {
  const run = dbgrelay(['serve', '--data-dir', dataDir, '--wss-host', publicAddress, '--tcps-host', publicAddress, ...args]);
  const [, wssPort] = await run.waitFor(/wss\s+listening on wss:\/\/127\.0\.0\.2:(\d+)/);
  const [, tcpsPort] = await run.waitFor(/tcps listening on tcps:\/\/127\.0\.0\.2:(\d+)/);
  const [, caFingerprint] = await run.waitFor(/CA fingerprint (sha256:[0-9a-f]{64})/);
  const [, covers] = await run.waitFor(/certificate covers (.*)/);
  return { serve: run, wssPort: wssPort!, tcpsPort: tcpsPort!, caFingerprint: caFingerprint!, covers: covers! };
}

describe('dbgrelay serve --public-name', () => {
  it('a name the certificate does not cover fails with the fix on both sides; --public-name makes it work, same CA', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dbgrelay-public-name-'));
    const first = await serve(dataDir, ['--wss-port', '0', '--tcps-port', '0']);
    expect(first.covers).toBe('localhost, 127.0.0.1, ::1');
    const secret = readFileSync(join(dataDir, 'secret'), 'utf8').trim();
    const caFile = join(dataDir, 'ca.pem');
    const fix = `you dialed ${publicAddress}; make the relay's certificate cover ${publicAddress}: start it with --public-name ${publicAddress} (development certificate)`;

    const agent = startDebuggee({ relayUrl: `tcps://${publicAddress}:${first.tcpsPort}`, name: 'web-far', secret, caFile });
    debuggees.push(agent);
    const refused = dbgrelay(['targets', '--relay', `wss://${publicAddress}:${first.wssPort}`, '--ca', caFile], { DBGRELAY_SECRET: secret });
    expect(await refused.exited).not.toBe(0);
    expect(refused.output()).toContain(
      `cannot verify the relay's certificate at ${publicAddress}:${first.wssPort}: the relay's certificate covers localhost, 127.0.0.1, ::1, ${fix}`,
    );
    expect(refused.output()).toContain('TLS_VERIFY_FAILED');
    await vi.waitFor(() => expect(existsSync(agent.agentLogFile) && readFileSync(agent.agentLogFile, 'utf8')).toContain(fix), { timeout: 15_000, interval: 100 });

    first.serve.child.kill('SIGTERM');
    expect(await first.serve.exited).toBe(0);
    // Same ports (the agent keeps dialing them) and data directory, now with the public name.
    const second = await serve(dataDir, ['--wss-port', first.wssPort, '--tcps-port', first.tcpsPort, '--public-name', publicAddress]);
    expect(second.covers).toBe(`localhost, 127.0.0.1, ::1, ${publicAddress} (made again for the public names, same CA)`);
    expect(second.caFingerprint).toBe(first.caFingerprint);

    // The agent, retrying with the CA file it had, registers; a client pinning the CA it had sees it.
    await vi.waitFor(
      async () => {
        const listed = dbgrelay(['targets', '--relay', `wss://${publicAddress}:${second.wssPort}`, '--fingerprint', first.caFingerprint, '--json'], { DBGRELAY_SECRET: secret });
        expect(await listed.exited, listed.output()).toBe(0);
        expect(listed.output()).toContain('"name": "web-far"');
      },
      { timeout: 15_000, interval: 500 },
    );
    second.serve.child.kill('SIGTERM');
    expect(await second.serve.exited).toBe(0);
  });
});
