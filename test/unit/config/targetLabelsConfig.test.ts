import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/loadConfig.js';

const load = (labels: Record<string, string>) => () =>
  loadConfig({ env: {}, overrides: { auth: { secret: 'a-long-enough-relay-secret-0123' }, targets: { 'db-1': { url: 'tcp://127.0.0.1:5678', labels } } } });

describe('targets.<name>.labels (revision 1.9 label bound)', () => {
  it('accepts labels of 2048 bytes and refuses more, naming the bound', () => {
    expect(load({ k: 'v'.repeat(2047) })().targets['db-1']!.labels).toEqual({ k: 'v'.repeat(2047) });
    expect(load({ k: 'v'.repeat(2048) })).toThrow(/at most 2048 bytes/);
  });
});
