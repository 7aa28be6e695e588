import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { certificateFingerprint } from '../../src/certs/certificateFactory.js';
import { runDbgrelay, type CliProcess, type RunOptions } from '../support/processes/cliProcess.js';

/**
 * The commands of the README, run as a user runs them: `dbgrelay serve` with built-in
 * defaults (only ports and data directory moved so tests can run side by side),
 * `dbgrelay targets` and `dbgrelay attach` against it.
 */

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function dbgrelay(args: string[], env: Record<string, string> = {}, options: RunOptions = {}): CliProcess {
  const run = runDbgrelay(args, env, options);
  running.push(run.child);
  return run;
}

describe('dbgrelay serve, targets and attach', () => {
  it('creates CA, certificate and secret on first start, prints them once, and serves the client commands', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dbgrelay-cli-'));
    const serve = dbgrelay(['serve', '--data-dir', dataDir, '--wss-port', '0', '--tcps-port', '0'], {}, { terminal: true });
    const [, fingerprint] = await serve.waitFor(/CA fingerprint (sha256:[0-9a-f]{64})/);
    const [, secret] = await serve.waitFor(/RELAY SECRET: (\S+)/);
    const [, wssUrl] = await serve.waitFor(/wss\s+listening on (wss:\/\/127\.0\.0\.1:\d+)/);
    const [, tcpsUrl] = await serve.waitFor(/tcps listening on (tcps:\/\/127\.0\.0\.1:\d+)/);
    for (const file of ['secret', 'ca-key.pem', 'server-key.pem']) expect(statSync(join(dataDir, file)).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(secret!.length).toBeGreaterThanOrEqual(32);

    // Client commands find the CA and the secret in the data directory (dev defaults).
    for (const relayUrl of [wssUrl!, tcpsUrl!]) {
      const targets = dbgrelay(['targets', '--relay', relayUrl, '--json'], { DBGRELAY_DATA_DIR: dataDir });
      expect(await targets.exited, targets.output()).toBe(0);
      expect(JSON.parse(targets.output().slice(targets.output().indexOf('[')))).toEqual([]);
    }
    const pinned = dbgrelay(['targets', '--relay', wssUrl!, '--fingerprint', fingerprint!], { DBGRELAY_SECRET: secret! });
    expect(await pinned.exited, pinned.output()).toBe(0);
    const wrongPin = dbgrelay(['targets', '--relay', wssUrl!, '--fingerprint', 'sha256:' + '0'.repeat(64)], { DBGRELAY_SECRET: secret! });
    expect(await wrongPin.exited).not.toBe(0);
    expect(wrongPin.output()).toContain('TLS_PIN_MISMATCH');
    expect(wrongPin.output()).not.toContain(secret!);

    const attach = dbgrelay(['attach', 'web-1', '--relay', tcpsUrl!, '--port', '0', '--no-check'], { DBGRELAY_DATA_DIR: dataDir });
    const launchJson = await attach.waitFor(/\{\s*"name": "dbgrelay: web-1"[\s\S]*?\n\}/);
    const configuration = JSON.parse(launchJson[0]) as { request: string; connect: { host: string; port: number } };
    expect(configuration.request).toBe('attach');
    expect(configuration.connect.host).toBe('127.0.0.1');
    expect(configuration.connect.port).toBeGreaterThan(0);
    attach.child.kill('SIGINT');
    await attach.exited;

    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    expect(readFileSync(join(dataDir, 'secret'), 'utf8').trim()).toBe(secret);
    // Shown to the person at the terminal, never in a log line.
    expect(
      serve
        .output()
        .split('\n')
        .filter((l) => l.includes(secret!))
        .map((l) => l.trim()),
    ).toEqual([`RELAY SECRET: ${secret}`]);

    // Second start: same CA, secret not shown again.
    const again = dbgrelay(['serve', '--data-dir', dataDir, '--wss-port', '0', '--tcps-port', '0']);
    const [, sameFingerprint] = await again.waitFor(/CA fingerprint (sha256:[0-9a-f]{64})/);
    expect(sameFingerprint).toBe(fingerprint);
    expect(again.output()).not.toContain(secret!);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });

  it('does not print a new secret when its output is not a terminal (a log stream)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dbgrelay-cli-'));
    const serve = dbgrelay(['serve', '--data-dir', dataDir, '--wss-port', '0', '--tcps-port', '0']);
    await serve.waitFor(/tcps listening on/);
    await serve.waitFor(/It is not shown: standard input and standard error are not both terminals/);
    const secret = readFileSync(join(dataDir, 'secret'), 'utf8').trim();
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(serve.output()).not.toContain(secret);
  });

  it.each([
    ['a terminal for its output only (docker run -t without -i)', { terminal: true, noTerminalInput: true }],
    ['a terminal as PID 1 (docker run -it: the entry point)', { terminal: true, asPidOne: true }],
  ] satisfies [string, RunOptions][])('does not print a new secret on %s, where the terminal ends in a log', async (_, options) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dbgrelay-cli-tty-'));
    const serve = dbgrelay(['serve', '--data-dir', dataDir, '--wss-port', '0', '--tcps-port', '0'], {}, options);
    await serve.waitFor(/tcps listening on/);
    expect(serve.output()).toMatch(/not shown: standard input and standard error are not both terminals, or the relay runs as PID 1/);
    const secret = readFileSync(join(dataDir, 'secret'), 'utf8').trim();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(serve.output()).not.toContain(secret);
    expect(serve.output()).not.toContain('RELAY SECRET');
  });

  it('writes only JSON log lines to stdout; the lines for a person go to stderr', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dbgrelay-cli-json-'));
    const serve = dbgrelay(['serve', '--data-dir', dataDir, '--wss-port', '0', '--tcps-port', '0']);
    let stdout = '';
    let stderr = '';
    serve.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    serve.child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await serve.waitFor(/tcps listening on/);
    serve.child.kill('SIGHUP');
    await serve.waitFor(/configuration reloaded/);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);

    const secret = readFileSync(join(dataDir, 'secret'), 'utf8').trim();
    const caFingerprint = certificateFingerprint(readFileSync(join(dataDir, 'ca.pem'), 'utf8'));
    const lines = stdout.split('\n').filter((line) => line !== '');
    const messages = lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toEqual(expect.arrayContaining(['created a new relay secret', 'relay listening', 'configuration reloaded', 'relay stopped']));
    expect(stdout).not.toContain(secret);
    // The operator still learns what to pin, where the secret is and that it was not shown.
    expect(stderr).toContain(`CA fingerprint ${caFingerprint}`);
    expect(stderr).toMatch(/wss\s+listening on wss:\/\/127\.0\.0\.1:\d+/);
    expect(stderr).toContain(`stored in ${join(dataDir, 'secret')}`);
    expect(stderr).toContain('dbgrelay: configuration reloaded');
    expect(stderr).not.toContain(secret);
  });

  it('ends quietly when its output is closed early (dbgrelay audit --json | head -1)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-cli-epipe-'));
    const file = join(dir, 'audit.log');
    const record = (i: number): string =>
      JSON.stringify({ ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i % 60)).toISOString(), event: 'session.opened', target: 'web-1', session: `s${i}` });
    writeFileSync(file, `${Array.from({ length: 50_000 }, (_, i) => record(i)).join('\n')}\n`);
    const audit = dbgrelay(['audit', '--file', file, '--json']);
    await audit.waitFor(/session\.opened/);
    audit.child.stdout!.destroy(); // the reader stops, as head does after its line
    expect(await audit.exited).toBe(0);
    expect(audit.output()).not.toMatch(/EPIPE|Error:/);
  });

  it('refuses an invalid configuration at start with a message naming the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-cli-config-'));
    const configFile = join(dir, 'relay.yaml');
    writeFileSync(configFile, 'listeners:\n  tcps:\n    port: seventy\n');
    const serve = dbgrelay(['serve', '--config', configFile, '--data-dir', dir]);
    expect(await serve.exited).toBe(78); // EX_CONFIG: systemd does not restart it (RestartPreventExitStatus=78)
    expect(serve.output()).toMatch(/listeners\.tcps\.port/);
    expect(serve.output()).toContain('CONFIG_INVALID');

    writeFileSync(configFile, 'listners:\n  tcps:\n    port: 1\n');
    const typo = dbgrelay(['serve', '--config', configFile, '--data-dir', dir]);
    expect(await typo.exited).toBe(78);
    expect(typo.output()).toMatch(/listners: unknown key/);
  });
});
