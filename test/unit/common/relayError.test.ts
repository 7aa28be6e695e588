import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isWireErrorCode, localErrorCodes, wireErrorCodes } from '../../../src/common/relayError.js';
import { refusalError } from '../../../src/dial/relayRefusal.js';

const protocolDoc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');

/** The codes of the table in docs/protocol.md §8. */
function documentedWireCodes(): string[] {
  const section = protocolDoc.slice(protocolDoc.indexOf('## 8. Error codes'), protocolDoc.indexOf('## 9.'));
  return [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((match) => match[1]!);
}

describe('the error codes', () => {
  it('on the wire are exactly the table of docs/protocol.md §8', () => {
    expect(documentedWireCodes().sort()).toEqual([...wireErrorCodes].sort());
  });

  it('are each either a wire code or a local one, never both', () => {
    const wire = new Set<string>(wireErrorCodes);
    expect(localErrorCodes.filter((code) => wire.has(code))).toEqual([]);
    expect(new Set([...wireErrorCodes, ...localErrorCodes]).size).toBe(wireErrorCodes.length + localErrorCodes.length);
  });

  it('the client keeps every wire code a relay sends and maps any other to INTERNAL', () => {
    for (const code of wireErrorCodes) expect(refusalError(code, 'why').code).toBe(code);
    for (const code of localErrorCodes) expect(isWireErrorCode(code)).toBe(false);
    const unknown = refusalError('CONFIG_INVALID', 'why');
    expect(unknown.code).toBe('INTERNAL');
    expect(unknown.message).toContain('"CONFIG_INVALID"');
  });
});
