import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { seedCorpus } from '../../fuzz/seeds/seedCorpus.js';
import { targetNames, type TargetName } from '../../fuzz/targets/targetNames.js';
import { targets } from '../../fuzz/targets/all.fuzz.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const seeds = seedCorpus(root);

/** Inputs the fuzzers found that broke a parser's contract, kept once fixed (fuzz/regressions/<target>/). */
function regressions(name: TargetName): Array<[string, Buffer]> {
  const directory = join(root, 'fuzz', 'regressions', name);
  let files: string[];
  try {
    files = readdirSync(directory);
  } catch {
    return [];
  }
  return files.map((file) => [file, readFileSync(join(directory, file))]);
}

// The fuzz targets themselves run under Jazzer.js (node fuzz/run.mjs); here every seed and
// every saved finding goes through them in-process, so that a parser change that breaks
// a contract fails the unit tests too, with the input named.
describe('fuzz targets (fuzz/targets/*.fuzz.ts)', () => {
  it('has a seed corpus for every target, from the hostile-input tables and the protocol vectors', () => {
    for (const name of targetNames) expect(seeds.get(name)?.length, name).toBeGreaterThanOrEqual(10);
    expect(seeds.get('all')!.length).toBe(targetNames.reduce((sum, name) => sum + seeds.get(name)!.length, 0));
  });

  it.each(targetNames.map((name) => [name]))('%s keeps its contract on every seed', (name) => {
    const fuzz = targets[name];
    for (const seed of seeds.get(name)!) {
      expect(() => fuzz(seed), seed.subarray(0, 120).toString('latin1')).not.toThrow();
    }
  });

  it.each(
    targetNames.flatMap((name) => regressions(name).map(([file, input]) => [name, file, input] as const)),
  )('%s keeps its contract on the finding %s', (name, _file, input) => {
    expect(() => targets[name](input)).not.toThrow();
    expect(Object.keys(Object.prototype)).toEqual([]);
  });
});
