import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateFingerprint } from '../../src/certs/certificateFactory.js';
import { runDbgrelay } from '../support/processes/cliProcess.js';
import { startE2eRelay, type E2eRelay } from '../support/relay/e2eRelay.js';

/**
 * Contexts of the client config file, as a user sets them up: `dbgrelay config
 * set-context` and `use-context` (the built CLI) in a fresh home, then `dbgrelay
 * targets` against the real relay with no --relay, --ca or secret flag.
 */
let relay: E2eRelay;
let env: Record<string, string>;
let configFile: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  relay = await startE2eRelay();
  const home = mkdtempSync(join(tmpdir(), 'dbgrelay-contexts-'));
  const secretFile = join(home, 'relay-secret');
  writeFileSync(secretFile, `${relay.secret}\n`, { mode: 0o600 });
  // A fresh home and config home: nothing of the real user's, and no development defaults (empty data directory).
  env = { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), DBGRELAY_DATA_DIR: join(home, 'state') };
  configFile = join(home, 'config', 'dbgrelay', 'config.yaml');
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await relay?.stop();
});

/** Runs the built `dbgrelay` with the fresh home (plus `extra` variables) and returns its exit status and output. */
async function dbgrelay(args: string[], extra: Record<string, string> = {}): Promise<{ status: number | null; output: string; stdout: string }> {
  const run = runDbgrelay(args, { ...env, ...extra }, { built: true });
  children.push(run.child);
  let stdout = '';
  run.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const status = await run.exited;
  return { status, output: run.output(), stdout };
}

describe('client contexts', () => {
  it('set up with dbgrelay config, make dbgrelay targets work with no flags, and --context or DBGRELAY_CONTEXT switch', async () => {
    const caFingerprint = certificateFingerprint(readFileSync(relay.caFile, 'utf8'));
    const local = await dbgrelay(['config', 'set-context', 'local', '--relay', relay.wssUrl, '--ca', relay.caFile, '--secret-file', join(env['HOME']!, 'relay-secret')]);
    expect(local.status, local.output).toBe(0);
    const other = await dbgrelay(['config', 'set-context', 'other', '--relay', relay.tcpsUrl, '--fingerprint', caFingerprint, '--secret-env', 'OTHER_SECRET']);
    expect(other.status, other.output).toBe(0);
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(configFile, 'utf8')).not.toContain(relay.secret);
    const use = await dbgrelay(['config', 'use-context', 'local']);
    expect(use.status, use.output).toBe(0);

    // Independent commands run side by side: each is a process start.
    const [listed, names, current, targets, switched, byEnvironment, wrongPin] = await Promise.all([
      dbgrelay(['config', 'get-contexts']),
      dbgrelay(['config', 'get-contexts', '-o', 'name']),
      dbgrelay(['config', 'current-context']),
      dbgrelay(['targets', '--json']),
      dbgrelay(['targets', '--context', 'other', '--json'], { OTHER_SECRET: relay.secret }),
      dbgrelay(['targets', '--json'], { DBGRELAY_CONTEXT: 'other', OTHER_SECRET: relay.secret }),
      dbgrelay(['targets', '--fingerprint', `sha256:${'0'.repeat(64)}`]),
    ]);
    expect(listed.stdout).toMatch(/^\*\s+local\s+wss:\/\/127\.0\.0\.1:\d+/m);
    expect(listed.stdout).toMatch(/^\s+other\s+tcps:\/\//m);
    expect(names.stdout).toBe('local\nother\n');
    expect(current.stdout).toBe('local\n');

    expect(targets.status, targets.output).toBe(0);
    expect(JSON.parse(targets.stdout)).toEqual([]);
    expect(targets.output).toContain(`context "local" (current-context of ${configFile}): relay ${relay.wssUrl}, ca ${relay.caFile}, secret-file`);

    expect(switched.status, switched.output).toBe(0);
    expect(switched.output).toContain(`context "other" (--context): relay ${relay.tcpsUrl}, fingerprints, secret-env OTHER_SECRET`);
    expect(byEnvironment.status, byEnvironment.output).toBe(0);
    expect(byEnvironment.output).toContain('context "other" (DBGRELAY_CONTEXT)');
    // The context's relay and credential, with a flag's trust that does not fit them: the flag wins.
    expect(wrongPin.status).not.toBe(0);
    expect(wrongPin.output).toContain('TLS_PIN_MISMATCH');
    expect(wrongPin.output).not.toContain(relay.secret);
  });

  it('refuse an unknown context and a missing -env credential with a configuration error (78) that says what to do', async () => {
    const [unknown, unset] = await Promise.all([dbgrelay(['targets', '--context', 'locl']), dbgrelay(['targets', '--context', 'other'])]);
    expect(unknown.status).toBe(78);
    expect(unknown.output).toMatch(/--context: no context "locl" in .* \(known contexts: local, other\); did you mean "local"\?/);
    expect(unset.status).toBe(78);
    expect(unset.output).toContain('context "other": secret-env names OTHER_SECRET, which is not set');
  });

  it('refuse --context with a direct endpoint (tcps:// target) as a usage error (64), instead of ignoring it', async () => {
    const run = await dbgrelay(['attach', 'tcps://endpoint-secret@127.0.0.1:5678', '--context', 'local', '--port', '0']);
    expect(run.status).toBe(64);
    expect(run.output).toContain('--context does not apply to a direct endpoint (tcps://***@127.0.0.1:5678)');
    expect(run.output).not.toContain('endpoint-secret');
  });
});
