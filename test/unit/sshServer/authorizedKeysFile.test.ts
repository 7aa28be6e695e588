import { chmodSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../../src/common/relayError.js';
import { AuthorizedKeysFile } from '../../../src/sshServer/authorizedKeysFile.js';
import { sshKeygen } from '../../support/keys/sshKeys.js';

function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

describe('AuthorizedKeysFile', () => {
  it('logs ignored lines by number, re-reads the file when it changes, and fails closed when it disappears', () => {
    const a = sshKeygen('ed25519', 'host-a');
    const b = sshKeygen('ed25519', 'host-b');
    const file = join(mkdtempSync(join(tmpdir(), 'dbgrelay-authkeys-')), 'authorized_keys');
    writeFileSync(file, `dbgrelay-targets="web-1" ${a.publicLine}\n${b.publicLine}\n`);
    chmodSync(file, 0o600);
    const { logger, lines } = capturingLogger();
    const keys = new AuthorizedKeysFile(file, logger);
    expect(keys.current().keys.map((key) => key.comment)).toEqual(['host-a']);
    expect(lines.find((line) => line['msg'] === 'authorized keys line ignored')).toMatchObject({ line: 2, reason: expect.stringMatching(/no dbgrelay-targets/) });
    expect(JSON.stringify(lines)).not.toContain(b.publicLine.split(' ')[1]);

    writeFileSync(file, `dbgrelay-targets="web-1" ${a.publicLine}\ndbgrelay-targets="web-2" ${b.publicLine}\n`);
    utimesSync(file, new Date(), new Date(Date.now() + 5_000)); // a new mtime even on coarse clocks
    expect(keys.current().keys.map((key) => key.comment)).toEqual(['host-a', 'host-b']);

    rmSync(file);
    expect(keys.current().keys).toEqual([]);
    expect(lines.at(-1)).toMatchObject({ msg: 'authorized keys file unreadable; refusing every key' });
  });

  it('refuses to start without a readable file', () => {
    try {
      new AuthorizedKeysFile('/nonexistent/authorized_keys', capturingLogger().logger);
      throw new Error('expected CONFIG_INVALID');
    } catch (error) {
      expect(isRelayError(error, 'CONFIG_INVALID')).toBe(true);
      expect((error as Error).message).toMatch(/^sshServer\.authorizedKeysFile: cannot read \/nonexistent\/authorized_keys \(ENOENT\)/);
    }
  });
});
