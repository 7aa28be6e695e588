import { describe, expect, it } from 'vitest';
import { parseAuthorizedKeys, parseTargetPatterns } from '../../../src/sshServer/authorizedKeys.js';
import { sshKeygen } from '../../support/keys/sshKeys.js';

const ed = sshKeygen('ed25519', 'deploy@web');
const ec = sshKeygen('ecdsa', 'api fleet');
const rsa = sshKeygen('rsa', 'legacy');
const [edType, edBase64] = ed.publicLine.split(' ') as [string, string];

describe('parseAuthorizedKeys', () => {
  it('reads keys of every supported type with their target patterns, fingerprints as ssh-keygen prints them, and comments', () => {
    const keys = parseAuthorizedKeys(
      [
        '# dbgrelay authorized keys',
        '',
        `dbgrelay-targets="web-1,web-2" ${ed.publicLine}`,
        `restrict,dbgrelay-targets="api-*, batch-?" ${ec.publicLine}`,
        `  no-pty,DBGRELAY-TARGETS="legacy" ${rsa.publicLine}  `,
      ].join('\n'),
    );
    expect(keys.problems).toEqual([]);
    expect(keys.keys.map((key) => ({ line: key.line, type: key.keyType, targets: key.targets, comment: key.comment, fingerprint: key.fingerprint }))).toEqual([
      { line: 3, type: 'ssh-ed25519', targets: ['web-1', 'web-2'], comment: 'deploy@web', fingerprint: ed.fingerprint },
      { line: 4, type: 'ecdsa-sha2-nistp256', targets: ['api-*', 'batch-?'], comment: 'api fleet', fingerprint: ec.fingerprint },
      { line: 5, type: 'ssh-rsa', targets: ['legacy'], comment: 'legacy', fingerprint: rsa.fingerprint },
    ]);
    expect(keys.find(Buffer.from(edBase64, 'base64'))?.line).toBe(3);
    expect(keys.find(Buffer.from('not a key'))).toBeUndefined();
  });

  it('takes quoted values with commas, spaces and escaped quotes apart correctly', () => {
    const keys = parseAuthorizedKeys(`dbgrelay-targets="a-1, b-2" ${edType} ${edBase64} comment with "quotes", commas`);
    expect(keys.problems).toEqual([]);
    expect(keys.keys[0]).toMatchObject({ targets: ['a-1', 'b-2'], comment: 'comment with "quotes", commas' });
    const escaped = parseAuthorizedKeys(`dbgrelay-targets="web-\\"1" ${ed.publicLine}`);
    expect(escaped.problems[0]?.message).toMatch(/"web-"1" is not a target name/);
  });

  it('reports every unusable line with its line number and reason, never quoting the key', () => {
    const text = [
      ed.publicLine, // 1: no targets option
      `dbgrelay-targets="" ${ed.publicLine}`, // 2: empty list
      `dbgrelay-targets="web/1" ${ed.publicLine}`, // 3: bad name
      `from="10.0.0.0/8",dbgrelay-targets="web-1" ${ed.publicLine}`, // 4: unsupported OpenSSH option
      `dbgrelay-targets="web-1 ${ed.publicLine}`, // 5: unterminated quote
      `dbgrelay-targets="web-1" ssh-dss AAAAB3NzaC1kc3MAAACBAP`, // 6: unsupported type
      `dbgrelay-targets="web-1" sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t`, // 7: security key
      `dbgrelay-targets="web-1" ssh-ed25519 !!!notbase64`, // 8
      `dbgrelay-targets="web-1" ssh-rsa ${edBase64}`, // 9: type does not match the blob
      `dbgrelay-targets="web-1" ssh-ed25519`, // 10: no key
      `dbgrelay-targets=web-1 ${ed.publicLine}`, // 11: unquoted value
      `dbgrelay-targets="web-1",dbgrelay-targets="web-2" ${ed.publicLine}`, // 12: twice
      `no-pty="x",dbgrelay-targets="web-1" ${ed.publicLine}`, // 13: flag with a value
      `dbgrelay-targets="web-1" ${ed.publicLine}`, // 14: fine
      `dbgrelay-targets="web-2" ${ed.publicLine}`, // 15: duplicate key
      `ssh-foo ${edBase64}`, // 16: unknown type without options
    ].join('\n');
    const keys = parseAuthorizedKeys(text);
    expect(keys.keys.map((key) => key.line)).toEqual([14]);
    const byLine = Object.fromEntries(keys.problems.map((problem) => [problem.line, problem.message]));
    expect(Object.keys(byLine).map(Number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16]);
    expect(byLine[1]).toMatch(/no dbgrelay-targets="…" option/);
    expect(byLine[2]).toMatch(/expected a comma-separated list/);
    expect(byLine[3]).toMatch(/"web\/1" is not a target name/);
    expect(byLine[4]).toMatch(/option from is not supported/);
    expect(byLine[5]).toMatch(/missing closing quote/);
    expect(byLine[6]).toMatch(/unsupported key type "ssh-dss"/);
    expect(byLine[7]).toMatch(/unsupported key type "sk-ssh-ed25519@openssh.com"/);
    expect(byLine[8]).toMatch(/not base64/);
    expect(byLine[9]).toMatch(/ssh-rsa key/);
    expect(byLine[10]).toMatch(/expected a key type and a base64 key/);
    expect(byLine[11]).toMatch(/expected a value in double quotes/);
    expect(byLine[12]).toMatch(/given twice/);
    expect(byLine[13]).toMatch(/no-pty takes no value/);
    expect(byLine[15]).toMatch(/already on line 14/);
    expect(byLine[16]).toMatch(/unsupported key type "ssh-foo"/);
    for (const message of Object.values(byLine)) expect(message).not.toContain(edBase64.slice(20, 60));
  });

  it('ignores comments and blank lines, and accepts CRLF files', () => {
    const keys = parseAuthorizedKeys(`# comment\r\n\r\n   # indented comment\r\ndbgrelay-targets="web-1" ${edType} ${edBase64}\r\n`);
    expect(keys.problems).toEqual([]);
    expect(keys.keys).toHaveLength(1);
    expect(keys.keys[0]!.comment).toBe('');
  });
});

describe('parseTargetPatterns', () => {
  it('accepts names and patterns, and refuses what is neither', () => {
    expect(parseTargetPatterns('web-1,api-*,*')).toEqual(['web-1', 'api-*', '*']);
    expect(parseTargetPatterns('web-1,')).toMatch(/comma-separated/);
    expect(parseTargetPatterns('-web')).toMatch(/not a target name/);
    expect(parseTargetPatterns('a'.repeat(64))).toMatch(/not a target name/);
    expect(parseTargetPatterns('web 1')).toMatch(/not a target name/);
  });
});
