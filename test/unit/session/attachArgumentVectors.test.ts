import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkAttachArguments } from '../../../src/session/attachArguments.js';

/** The attach argument cases the relay and the agent's bridge (agent-py/dbgrelay/attachpolicy.py) share. */
interface Vectors {
  readonly allowed: ReadonlyArray<{ readonly name: string; readonly arguments: unknown; readonly forwarded?: Record<string, unknown> }>;
  readonly refused: ReadonlyArray<{ readonly name: string; readonly arguments: unknown; readonly keys: readonly string[] }>;
}

const vectors = JSON.parse(readFileSync(new URL('../../fixtures/attachArgumentVectors.json', import.meta.url), 'utf8')) as Vectors;

describe('test/fixtures/attachArgumentVectors.json at the relay', () => {
  it.each(vectors.allowed.map((v) => [v.name, v] as const))('forwards %s', (_name, vector) => {
    const verdict = checkAttachArguments(vector.arguments);
    expect(verdict.refused).toBeUndefined();
    expect(verdict.refused === undefined ? verdict.forwarded : 'refused').toEqual(vector.forwarded);
  });

  it.each(vectors.refused.map((v) => [v.name, v] as const))('refuses %s', (_name, vector) => {
    expect(checkAttachArguments(vector.arguments).refused).toEqual(vector.keys);
  });
});
