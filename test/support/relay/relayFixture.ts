import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { vi } from 'vitest';
import { certificateFingerprint, createCa, createLeaf, loopbackNames } from '../../../src/certs/certificateFactory.js';
import { loadConfig } from '../../../src/config/loadConfig.js';
import { createLogger } from '../../../src/log/logger.js';
import { startRelay, type RelayHandle } from '../../../src/relay/relayServer.js';

/** A CA and a relay certificate (leaf + CA chain) written to a temp directory. */
export interface FixtureCertificates {
  readonly dir: string;
  readonly caPem: string;
  readonly caFingerprint: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** Makes a CA and a server certificate for the loopback names with node-forge. */
export function makeCertificates(): FixtureCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'dbgrelay-certs-'));
  const ca = createCa('dbgrelay test CA');
  const leaf = createLeaf(ca, 'localhost', { server: loopbackNames });
  const certFile = join(dir, 'server.pem');
  const keyFile = join(dir, 'server-key.pem');
  writeFileSync(certFile, leaf.certPem + ca.certPem);
  writeFileSync(keyFile, leaf.keyPem, { mode: 0o600 });
  return { dir, caPem: ca.certPem, caFingerprint: certificateFingerprint(ca.certPem), certFile, keyFile };
}

/** A relay started for a test, with its log lines captured. */
export interface TestRelay {
  readonly relay: RelayHandle;
  readonly secret: string;
  readonly ca: string;
  /** Everything logged so far, as text. */
  logText(): string;
  /** Parsed log lines. */
  logLines(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Starts the real relay on 127.0.0.1 port 0 (both listeners) with `certs` and short bounds. */
export async function startTestRelay(certs: FixtureCertificates, overrides: Record<string, unknown> = {}): Promise<TestRelay> {
  const secret = 'test-secret-' + Math.random().toString(36).slice(2) + '-XYZZY';
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: mkdtempSync(join(tmpdir(), 'dbgrelay-data-')),
      listeners: { wss: { port: 0 }, tcps: { port: 0 } },
      tls: { certFile: certs.certFile, keyFile: certs.keyFile },
      auth: { secret },
      limits: { handshakeTimeoutMs: 1_000, openTimeoutMs: 1_000 },
      agents: { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 400 },
      log: { level: 'debug' },
      ...overrides,
    },
  });
  const { logger } = createLogger({ level: config.log.level }, stream);
  const relay = await startRelay(config, { logger });
  return {
    relay,
    secret,
    ca: certs.caPem,
    logText: () => chunks.join(''),
    logLines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    close: () => relay.close(),
  };
}

/** Resolves when `check` holds (`vi.waitFor`, every 10 ms); rejects after `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  await vi.waitFor(
    () => {
      if (!check()) throw new Error('condition not met in time');
    },
    { timeout: timeoutMs, interval: 10 },
  );
}
