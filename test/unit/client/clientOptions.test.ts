import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { clientDataDir, resolveClientConnection, type ClientFlagValues } from '../../../src/cli/clientOptions.js';
import { launchConfiguration, registerAttachCommand } from '../../../src/cli/attachCommand.js';
import { formatTargetsTable, registerTargetsCommand } from '../../../src/cli/targetsCommand.js';
import { isRelayError } from '../../../src/common/relayError.js';
import { testCertificates } from '../../support/keys/testCertificates.js';

const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-client-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function dataDir(files: Record<string, string>): NodeJS.ProcessEnv {
  const d = mkdtempSync(join(dir, 'data-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return { DBGRELAY_DATA_DIR: d };
}

describe('resolveClientConnection', () => {
  it('uses the dev defaults from the data directory', () => {
    const certs = testCertificates();
    const env = dataDir({ 'ca.pem': certs.caPem, secret: 'from-file\n' });
    const c = resolveClientConnection({}, env);
    expect(c.endpoint.display).toBe('wss://127.0.0.1:7443');
    expect(c.trust.kind).toBe('ca');
    expect(c.secret).toBe('from-file');
    expect(c.notes.join('\n')).toMatch(/development CA/);
    expect(c.notes.join('\n')).not.toContain('from-file');
  });

  it('prefers --secret-file, then the URL, then DBGRELAY_SECRET, and flags over dev defaults', () => {
    const env = { ...dataDir({ secret: 'dev' }), DBGRELAY_SECRET: 'env', DBGRELAY_RELAY: 'tcps://[::1]' };
    const file = join(dir, 'secret-file');
    writeFileSync(file, '  flagged \n');
    const pin = `sha256:${'ab'.repeat(32)}`;
    expect(resolveClientConnection({ secretFile: file, fingerprint: [pin] }, env)).toMatchObject({ secret: 'flagged', trust: { kind: 'pin', fingerprints: [pin] } });
    expect(resolveClientConnection({}, env)).toMatchObject({ secret: 'env', trust: { kind: 'system' }, endpoint: { display: 'tcps://[::1]:7444' } });
    const fromUrl = resolveClientConnection({ relay: 'wss://urlsecret@h' }, { DBGRELAY_DATA_DIR: join(dir, 'missing') });
    expect(fromUrl.secret).toBe('urlsecret');
    expect(fromUrl.notes.join()).toMatch(/visible to other local users.*--secret-file/);
    expect(fromUrl.notes.join()).not.toContain('urlsecret');
    // A secret in the URL (e.g. the target's attach secret) wins over the environment.
    expect(resolveClientConnection({ relay: 'tcps://attach%2Bsecret@h:7444' }, env)).toMatchObject({ secret: 'attach+secret', endpoint: { display: 'tcps://h:7444' } });
    // From DBGRELAY_RELAY it is not in argv: no warning.
    const fromEnvUrl = resolveClientConnection({}, { DBGRELAY_DATA_DIR: join(dir, 'missing'), DBGRELAY_RELAY: 'tcps://envurl@h' });
    expect(fromEnvUrl.secret).toBe('envurl');
    expect(fromEnvUrl.notes.join()).not.toMatch(/visible/);
  });

  it('refuses a secret both in the URL and in --secret-file', () => {
    const file = join(dir, 'secret-file-2');
    writeFileSync(file, 'x\n');
    expect(() => resolveClientConnection({ relay: 'wss://s@h', secretFile: file }, {})).toThrow(
      expect.toSatisfy((e) => isRelayError(e, 'CONFIG_INVALID') && !(e as Error).message.includes('s@')),
    );
  });

  it('fails clearly on unreadable or empty files and on --ca with --fingerprint', () => {
    const env = { DBGRELAY_DATA_DIR: join(dir, 'missing') };
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    const cases: Array<[ClientFlagValues, RegExp]> = [
      [{ secretFile: join(dir, 'nope') }, /cannot read .*nope \(ENOENT\)/],
      [{ secretFile: empty }, /is empty/],
      [{ ca: join(dir, 'nope.pem') }, /--ca: cannot read/],
      [{ ca: empty, fingerprint: ['sha256:00'] }, /either --ca or --fingerprint/],
    ];
    for (const [flags, pattern] of cases) {
      expect(() => resolveClientConnection(flags, env)).toThrow(pattern);
    }
    expect(() => resolveClientConnection({ fingerprint: ['md5:00'] }, env)).toThrow(/not a fingerprint/);
    expect(() => resolveClientConnection({ relay: 'wss://h/?secret=x' }, env)).toThrow(expect.toSatisfy((e) => isRelayError(e, 'BAD_REQUEST')));
  });

  it('sends the local relay secret only to a loopback relay reached without a proxy', () => {
    const env = dataDir({ secret: 'local-relay-secret\n' });
    for (const relay of ['wss://127.0.0.1:7443', 'tcps://[::1]:7444', 'wss://localhost']) {
      expect(resolveClientConnection({ relay }, env).secret).toBe('local-relay-secret');
    }
    const refusals: Array<[ClientFlagValues, NodeJS.ProcessEnv]> = [
      [{ relay: 'wss://relay.example.com' }, env],
      [{ relay: 'tcps://10.0.0.5:7444' }, env],
      [{}, { ...env, DBGRELAY_RELAY: 'wss://192.168.1.9' }],
      // Through a proxy, "localhost" is the proxy's own machine.
      [{ relay: 'wss://localhost:7443' }, { ...env, HTTPS_PROXY: 'http://127.0.0.1:3128' }],
    ];
    for (const [flags, environment] of refusals) {
      expect(() => resolveClientConnection(flags, environment)).toThrow(
        expect.toSatisfy((e) => {
          const message = (e as Error).message;
          return (
            isRelayError(e, 'CONFIG_INVALID') &&
            /--secret-file/.test(message) &&
            /DBGRELAY_SECRET/.test(message) &&
            /--token-file/.test(message) &&
            /DBGRELAY_TOKEN/.test(message) &&
            !message.includes('local-relay-secret')
          );
        }),
      );
    }
  });

  it('lets a remote relay take any explicit credential, or a client certificate alone', () => {
    const env = dataDir({ secret: 'local-relay-secret' });
    const relay = 'wss://relay.example.com';
    expect(resolveClientConnection({ relay }, { ...env, DBGRELAY_SECRET: 'given' }).secret).toBe('given');
    expect(resolveClientConnection({ relay }, { ...env, DBGRELAY_TOKEN: 'a.b.c' }).token?.()).toBe('a.b.c');
    expect(resolveClientConnection({ relay: 'wss://in-url@relay.example.com' }, env).secret).toBe('in-url');
    const certOnly = resolveClientConnection({ relay, cert: 'client.pem' }, env);
    expect(certOnly.secret).toBeUndefined();
    expect(certOnly.notes.join('\n')).toMatch(/client certificate/);
  });

  it('finds the data directory', () => {
    expect(clientDataDir({ DBGRELAY_DATA_DIR: '/a' })).toBe('/a');
    expect(clientDataDir({ XDG_STATE_HOME: '/x' })).toBe('/x/dbgrelay');
    expect(clientDataDir({})).toMatch(/\.local\/state\/dbgrelay$/);
  });
});

describe('client commands', () => {
  it('register attach and targets with their options and help', () => {
    const program = new Command();
    registerAttachCommand(program);
    registerTargetsCommand(program);
    const attach = program.commands.find((c) => c.name() === 'attach')!;
    expect(attach.options.map((o) => o.long)).toEqual(expect.arrayContaining(['--port', '--host', '--relay', '--ca', '--fingerprint', '--secret-file', '--token-file']));
    // Credentials only from files or the environment, never as a value in argv.
    expect(attach.options.some((o) => o.long === '--secret' || o.long === '--token')).toBe(false);
    const targets = program.commands.find((c) => c.name() === 'targets')!;
    expect(targets.options.map((o) => o.long)).toContain('--json');
    let help = '';
    attach.configureOutput({ writeOut: (s) => (help += s) }).outputHelp();
    expect(help).toMatch(/<dataDir>\/ca\.pem/);
  });

  it('prints a launch.json configuration and a target table', () => {
    expect(launchConfiguration('web-1', '127.0.0.1', 5678)).toEqual({
      name: 'dbgrelay: web-1',
      type: 'debugpy',
      request: 'attach',
      connect: { host: '127.0.0.1', port: 5678 },
      pathMappings: [{ localRoot: '${workspaceFolder}', remoteRoot: '.' }],
    });
    const table = formatTargetsTable([
      {
        name: 'web-1',
        labels: {},
        host: 'h\u001b[31m',
        pid: 42,
        python: '3.11.7',
        debugpy: '1.8.22',
        agent: '0.1.0',
        transport: 'wss',
        connectedAt: '2026-11-21T09:30:00.000Z',
        sessions: 2,
      },
    ]);
    expect(table.split('\n')[0]).toMatch(/^NAME\s+KIND\s+HOST\s+PID\s+PYTHON\s+DEBUGPY\s+TRANSPORT\s+STATUS\s+SESSIONS\s+SINCE\s+LABELS\s+ROOT$/);
    expect(table).toContain('h?[31m');
    expect(table.split('\n')[1]).toMatch(/^web-1\s+agent\s+h\?\[31m\s+42\s+3\.11\.7\s+1\.8\.22\s+wss\s+connected\s+2\s+2026-11-21T09:30:00\.000Z\s+-\s+-$/);
  });

  it('shows configured targets with their reachability and no process fields', () => {
    const table = formatTargetsTable([
      {
        name: 'db-1',
        kind: 'ssh',
        labels: {},
        host: 'db-1',
        transport: 'ssh',
        address: 'ssh://deploy@db-1:22 → 127.0.0.1:5678',
        reachable: false,
        detail: 'host key changed',
        connectedAt: '2026-11-21T09:30:00.000Z',
        sessions: 0,
      },
      { name: 'side', kind: 'tcp', labels: {}, host: '127.0.0.1', transport: 'tcp', address: 'tcp://127.0.0.1:5678', connectedAt: '2026-11-21T09:30:00.000Z', sessions: 0 },
    ]);
    const [, db, side] = table.split('\n');
    expect(db).toMatch(/^db-1\s+ssh\s+db-1\s+-\s+-\s+-\s+ssh\s+unreachable: host key changed\s+0\s+/);
    expect(side).toMatch(/^side\s+tcp\s+127\.0\.0\.1\s+-\s+-\s+-\s+tcp\s+not tried yet\s+0\s+/);
  });
});
