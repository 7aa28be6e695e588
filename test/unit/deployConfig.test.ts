import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { relayConfigSchema } from '../../src/config/configSchema.js';
import { loadConfig } from '../../src/config/loadConfig.js';

/**
 * deploy/config.example.yaml cannot drift from the configuration schema: it loads with
 * the real loader, and every key of the schema appears in it, set or (for keys that
 * must stay unset there) as a "# dotted.key: ..." line, each with a comment.
 */
const exampleFile = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy', 'config.example.yaml');
const text = readFileSync(exampleFile, 'utf8');

/** Dotted paths of every leaf key of a zod object schema (records and arrays are leaves). */
function schemaKeys(schema: z.ZodType, path: readonly string[] = []): string[] {
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodOptional || inner instanceof z.ZodDefault || inner instanceof z.ZodNullable) inner = inner.unwrap() as z.ZodType;
  if (!(inner instanceof z.ZodObject)) return [path.join('.')];
  return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([key, child]) => schemaKeys(child, [...path, key]));
}

function valueAt(tree: unknown, path: string): unknown {
  let node = tree;
  for (const part of path.split('.')) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined;
  return node;
}

describe('deploy/config.example.yaml', () => {
  const keys = schemaKeys(relayConfigSchema);

  it('walks the whole schema (sanity check of the walk itself)', () => {
    expect(keys).toContain('listeners.wss.port');
    expect(keys).toContain('auth.jwt.jwksUrl');
    expect(keys).toContain('metrics.bearerTokenFile');
    expect(keys.length).toBeGreaterThan(60);
  });

  it('loads with the real config loader', () => {
    const config = loadConfig({ env: {}, flags: { config: exampleFile } });
    expect(config.metrics).toMatchObject({ enabled: true, host: '127.0.0.1', port: 9464 });
    expect(config.listeners.tcps.port).toBe(7444);
    expect(config.pauseWatchdog.maxPauseMs).toBe(30_000);
  });

  it('mentions every key of the schema', () => {
    const parsed = parseYaml(text) as unknown;
    const missing = keys.filter((key) => valueAt(parsed, key) === undefined && !new RegExp(`^\\s*# ${key.replace(/\./g, '\\.')}: \\S`, 'm').test(text));
    expect(missing, 'keys neither set nor documented as "# key: ..." in deploy/config.example.yaml').toEqual([]);
  });

  it('sets no key the schema does not know', () => {
    const parsed = parseYaml(text) as Record<string, unknown>;
    const known = new Set(keys);
    const leaves = (node: unknown, path: string[]): string[] =>
      typeof node === 'object' && node !== null && !Array.isArray(node) && !known.has(path.join('.'))
        ? Object.entries(node).flatMap(([key, child]) => leaves(child, [...path, key]))
        : [path.join('.')];
    expect(leaves(parsed, []).filter((key) => !known.has(key))).toEqual([]);
  });

  it('documents every value it sets with a comment on its line or just above it', () => {
    const lines = text.split('\n');
    const undocumented: string[] = [];
    let listIndent = -1; // items of a YAML list (e.g. grants) are documented by the list's key
    lines.forEach((line, index) => {
      const item = /^(\s*)- /.exec(line);
      if (item) listIndent = item[1]!.length;
      const key = /^(\s*)([A-Za-z][A-Za-z0-9]*):\s+[^\s#]/.exec(line);
      if (!key) return;
      if (listIndent >= 0 && key[1]!.length > listIndent) return;
      listIndent = -1;
      const previous = lines[index - 1] ?? '';
      if (!/\s#\s/.test(line) && !/^\s*#/.test(previous)) undocumented.push(`${index + 1}: ${line.trim()}`);
    });
    expect(undocumented).toEqual([]);
  });
});
