import { describe, expect, it } from 'vitest';
import { closestName, didYouMean, editDistance } from '../../../src/common/closestName.js';

describe('closestName', () => {
  it('counts edits, a swap of neighbours as one', () => {
    expect(editDistance('port', 'port')).toBe(0);
    expect(editDistance('prot', 'port')).toBe(1);
    expect(editDistance('hots', 'host')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests the closest name within a third of its length, ignoring case', () => {
    expect(closestName('prot', ['host', 'port', 'enabled'])).toBe('port');
    expect(closestName('secretfile', ['secretFile', 'secretEnv'])).toBe('secretFile');
    expect(closestName('staging', ['prod', 'stagging', 'dev'])).toBe('stagging');
    expect(closestName('name', ['port', 'enabled'])).toBeUndefined();
    expect(closestName('x', [])).toBeUndefined();
  });

  it('words the hint', () => {
    expect(didYouMean('audti', ['audit', 'auth'])).toBe('; did you mean "audit"?');
    expect(didYouMean('zzz', ['audit'])).toBe('');
  });
});
