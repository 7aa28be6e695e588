import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, tagged } from '../../../src/log/logger.js';

function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('writes JSON lines with the tag', () => {
    const { stream, lines } = capture();
    const { logger } = createLogger({ level: 'info' }, stream);
    tagged(logger, 'agent', { target: 'web-1' }).info('agent registered');
    expect(lines()[0]).toMatchObject({ tag: 'agent', target: 'web-1', msg: 'agent registered', level: 30 });
  });

  it('redacts secret, token and authorization fields', () => {
    const { stream, lines } = capture();
    const { logger } = createLogger({ level: 'info' }, stream);
    logger.info({ secret: 'secret-value-1', token: 'token-value-1', headers: { authorization: 'Basic QQ==' }, hello: { secret: 'secret-value-2' } }, 'x');
    const text = JSON.stringify(lines());
    expect(text).not.toMatch(/secret-value-1|token-value-1|QQ==|secret-value-2/);
    expect(lines()[0]).toMatchObject({ secret: '[redacted]' });
  });

  it('honours the level and writes to a log file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dbgrelay-log-')), 'sub', 'relay.log');
    const { logger, close } = createLogger({ level: 'warn', file });
    logger.info('hidden');
    logger.warn('shown');
    close();
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('shown');
    expect(text).not.toContain('hidden');
  });
});

describe('log redaction', () => {
  it('censors every secret-ish key at the top level, one level down and in HTTP headers', async () => {
    const { redactedPaths, secretFieldNames } = await import('../../../src/log/logger.js');
    for (const name of ['secret', 'token', 'authorization', 'password', 'passphrase', 'privateKey', 'attachSecret', 'agentSecret']) {
      expect(secretFieldNames).toContain(name);
    }
    expect(redactedPaths).toContain('*.passphrase');
    const { stream, lines } = capture();
    const { logger } = createLogger({ level: 'info' }, stream);
    const fields: Record<string, unknown> = {};
    for (const [i, name] of secretFieldNames.entries()) fields[name] = `TOP${i}LEAK`;
    const nested: Record<string, unknown> = {};
    for (const [i, name] of secretFieldNames.entries()) nested[name] = `NESTED${i}LEAK`;
    logger.info(
      {
        ...fields,
        hello: nested,
        req: { headers: { authorization: 'Bearer HDRLEAK', cookie: 'session=CKLEAK', host: 'relay.example' } },
        secretFile: '/etc/dbgrelay/secret',
      },
      'everything secret-ish',
    );
    const line = lines()[0]!;
    const text = JSON.stringify(line);
    expect(text).not.toMatch(/LEAK/);
    expect(line).toMatchObject({ passphrase: '[redacted]', secretFile: '/etc/dbgrelay/secret', req: { headers: { host: 'relay.example' } } });
    expect((line['hello'] as Record<string, unknown>)['password']).toBe('[redacted]');
  });
});
