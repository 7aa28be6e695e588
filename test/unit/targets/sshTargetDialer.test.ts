import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testKeyPair } from '../../support/keys/sshKeys.js';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/loadConfig.js';
import { createLogger } from '../../../src/log/logger.js';
import type { RelayConfig } from '../../../src/config/configSchema.js';
import { ConfiguredTargetSet } from '../../../src/targets/configuredTargetSet.js';
import { TargetRegistry } from '../../../src/targets/targetRegistry.js';

const dir = mkdtempSync(join(tmpdir(), 'ssh-dialer-'));
const identityFile = join(dir, 'id');
writeFileSync(identityFile, testKeyPair().private, { mode: 0o600 });
const knownHostsFile = join(dir, 'known_hosts');
writeFileSync(knownHostsFile, '');
const logger = createLogger({ level: 'silent' }).logger;

/** Adds the configured targets of `config` to `registry`, as a starting relay does; returns their removal. */
function provideConfiguredTargets(registry: TargetRegistry, config: RelayConfig, log: typeof logger): () => void {
  const set = new ConfiguredTargetSet(registry, log);
  set.start(config);
  return () => set.close();
}

const configWith = (targets: Record<string, unknown>) => loadConfig({ env: {}, overrides: { dataDir: dir, targets } });

describe('ssh targets from the config', () => {
  it('are provided with where the relay dials, jump hosts included, never a credential', () => {
    const registry = new TargetRegistry();
    const remove = provideConfiguredTargets(
      registry,
      configWith({
        'db-1': {
          url: 'ssh://deploy@db-1.internal',
          ssh: { identityFile, knownHostsFile, jump: [{ url: 'ssh://jump@bastion:2222', identityFile, knownHostsFile }] },
        },
        'db-2': { url: 'ssh://deploy@[fd00::2]:2200', debugpy: '127.0.0.1:5679', ssh: { identityFile, knownHostsFile } },
      }),
      logger,
    );
    expect(registry.list().map(({ name, kind, transport, host, address }) => ({ name, kind, transport, host, address }))).toEqual([
      { name: 'db-1', kind: 'ssh', transport: 'ssh', host: 'db-1.internal', address: 'ssh://deploy@db-1.internal:22 via ssh://jump@bastion:2222 → 127.0.0.1:5678' },
      { name: 'db-2', kind: 'ssh', transport: 'ssh', host: 'fd00::2', address: 'ssh://deploy@[fd00::2]:2200 → 127.0.0.1:5679' },
    ]);
    remove();
    expect(registry.size).toBe(0);
  });

  it('refuse to start when a file is unusable, naming the key', () => {
    const start = (ssh: Record<string, unknown>) => () => provideConfiguredTargets(new TargetRegistry(), configWith({ 'db-1': { url: 'ssh://deploy@db-1', ssh } }), logger);
    expect(start({ identityFile, knownHostsFile: join(dir, 'nope') })).toThrow(/targets\.db-1\.ssh\.knownHostsFile: cannot read .*nope \(ENOENT\)/);
    expect(start({ identityFile: join(dir, 'nope'), knownHostsFile })).toThrow(/targets\.db-1\.ssh\.identityFile: cannot read/);
    expect(
      start({
        identityFile,
        hostKey: 'SHA256:TSq0PdKkc9+MrlMaNLWKNXi1TsMRbVAmFpDzioa5vqA',
        jump: [{ url: 'ssh://j@b', agent: join(dir, 'agent.sock'), knownHostsFile: join(dir, 'nope') }],
      }),
    ).toThrow(/targets\.db-1\.ssh\.jump\.0\.knownHostsFile: cannot read/);
  });
});
