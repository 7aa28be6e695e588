import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../../src/common/relayError.js';
import { ScrapeToken } from '../../../src/metrics/scrapeToken.js';

function tokenFile(text: string, mode = 0o600): string {
  const file = join(mkdtempSync(join(tmpdir(), 'dbgrelay-scrape-')), 'token');
  writeFileSync(file, text, { mode });
  return file;
}

describe('ScrapeToken', () => {
  it('accepts exactly "Bearer <token>" (scheme in any case), nothing else', () => {
    const { token, looseFileMode } = ScrapeToken.fromFile(tokenFile('s3cr3t-scrape-token\n'));
    expect(looseFileMode).toBe(false);
    expect(token.accepts('Bearer s3cr3t-scrape-token')).toBe(true);
    expect(token.accepts('bearer s3cr3t-scrape-token')).toBe(true);
    for (const header of [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      'Bearer s3cr3t-scrape-toke',
      'Bearer s3cr3t-scrape-token2',
      'Basic s3cr3t-scrape-token',
      's3cr3t-scrape-token',
      'Bearer s3cr3t-scrape-token extra',
    ]) {
      expect(token.accepts(header)).toBe(false);
    }
  });

  it('refuses an empty or unreadable file with CONFIG_INVALID naming the key, never the content', () => {
    for (const file of [tokenFile('  \n'), join(tmpdir(), 'dbgrelay-no-such-dir', 'token'), tokenFile('two words')]) {
      try {
        ScrapeToken.fromFile(file);
        expect.unreachable('expected CONFIG_INVALID');
      } catch (error) {
        expect(isRelayError(error, 'CONFIG_INVALID')).toBe(true);
        expect((error as Error).message).toMatch(/^metrics\.bearerTokenFile: /);
        expect((error as Error).message).not.toContain('words');
      }
    }
  });

  it('reports a token file readable by others', () => {
    expect(ScrapeToken.fromFile(tokenFile('t0ken', 0o644)).looseFileMode).toBe(true);
  });
});
