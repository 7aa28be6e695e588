import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { isRelayError } from '../../../src/common/relayError.js';

/** An environment with nothing of the relay's in it. */
export const configTestEnv = { HOME: '/home/ops' };

/** Writes `lines` to a fresh `relay.yaml` and returns its path. */
export function configFile(lines: readonly string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'dbgrelay-config-')), 'relay.yaml');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** Runs `load`, expects it to throw `CONFIG_INVALID`, and returns the message. */
export function configErrorOf(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    expect(isRelayError(error, 'CONFIG_INVALID')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected CONFIG_INVALID');
}
