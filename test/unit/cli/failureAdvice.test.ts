import { describe, expect, it } from 'vitest';
import type { ClientConnection } from '../../../src/cli/clientOptions.js';
import { credentialSourceOf } from '../../../src/cli/credentialSource.js';
import { withAdvice, type FailureContext } from '../../../src/cli/failureAdvice.js';
import { RelayError } from '../../../src/common/relayError.js';
import { parseRelayEndpoint } from '../../../src/dial/relayEndpoint.js';
import { systemTrust } from '../../../src/dial/tlsTrust.js';

const secretFile: FailureContext = { command: 'attach', credential: { kind: 'secret', description: 'the secret in --secret-file /etc/dbgrelay/secret' } };

function message(error: RelayError, context: FailureContext): string {
  const advised = withAdvice(error, context) as RelayError;
  expect(advised.code).toBe(error.code);
  return advised.message;
}

describe('errors that name the fix', () => {
  it('TARGET_BUSY mentions --takeover, unless it was given; a direct endpoint says to wait instead', () => {
    const busy = new RelayError('TARGET_BUSY', 'relay refused: target "web-1" is being debugged by alice since 2026-12-05T22:00:00.000Z');
    expect(message(busy, secretFile)).toContain('--takeover');
    expect(message(busy, { ...secretFile, takeover: true })).not.toContain('an admin can take it over');
    const direct = message(new RelayError('TARGET_BUSY', 'debug endpoint refused: busy'), { ...secretFile, direct: true });
    expect(direct).not.toContain('--takeover');
    expect(direct).not.toMatch(/\brelay\b/);
  });

  it('AUTH_FAILED names the credential source used', () => {
    const refused = new RelayError('AUTH_FAILED', 'relay refused: credential refused');
    expect(message(refused, secretFile)).toContain('credential used: the secret in --secret-file /etc/dbgrelay/secret');
    const token: FailureContext = { command: 'attach', credential: { kind: 'token', description: 'the token in DBGRELAY_TOKEN' } };
    expect(message(new RelayError('AUTH_REQUIRED', 'relay refused: no credential'), token)).toContain('DBGRELAY_TOKEN');
  });

  it('a secret refused for `targets` may be an attach secret, which allows only attaching', () => {
    const refused = new RelayError('AUTH_FAILED', 'relay refused: credential refused');
    expect(message(refused, { ...secretFile, command: 'targets' })).toContain("if it is a target's attach secret, it allows only attaching");
    const token: FailureContext = { command: 'targets', credential: { kind: 'token', description: 'the token in DBGRELAY_TOKEN' } };
    expect(message(refused, token)).not.toContain('attach secret');
  });

  it('UNKNOWN_TARGET before attaching names --no-check; other errors are left as they are', () => {
    expect(message(new RelayError('UNKNOWN_TARGET', 'no target "web-1"'), secretFile)).toContain('--no-check');
    const unreachable = new RelayError('RELAY_UNREACHABLE', 'cannot reach the relay');
    expect(withAdvice(unreachable, secretFile)).toBe(unreachable);
    const plain = new Error('x');
    expect(withAdvice(plain, secretFile)).toBe(plain);
  });
});

describe('credentialSourceOf', () => {
  const endpoint = parseRelayEndpoint('wss://relay.example:7443');
  const connection = (extra: Partial<ClientConnection>): ClientConnection => ({ endpoint, trust: systemTrust, notes: [], ...extra });

  it('names each source in the order the client uses them, never the value', () => {
    expect(credentialSourceOf({ tokenFile: '/t' }, connection({ token: () => 'x' }), {}).description).toBe('the token in --token-file /t');
    expect(credentialSourceOf({}, connection({ token: () => 'x' }), {}).description).toBe('the token in DBGRELAY_TOKEN');
    expect(credentialSourceOf({ secretFile: '/s' }, connection({ secret: 'v' }), {}).description).toBe('the secret in --secret-file /s');
    const inUrl = parseRelayEndpoint('wss://v@relay.example:7443');
    expect(credentialSourceOf({ relay: 'wss://v@relay.example:7443' }, { endpoint: inUrl, trust: systemTrust, notes: [], secret: 'v' }, {}).description).toBe(
      'the secret@ in the --relay URL',
    );
    expect(credentialSourceOf({}, connection({ secret: 'v' }), { DBGRELAY_SECRET: 'v' }).description).toBe('the secret in DBGRELAY_SECRET');
    expect(credentialSourceOf({}, connection({ secret: 'v' }), { DBGRELAY_DATA_DIR: '/d' }).description).toBe("the local relay's secret /d/secret");
    expect(credentialSourceOf({}, connection({ secret: 'v' }), {}, 'tcps://v@host:5678').description).toBe('the secret@ in the endpoint URL');
    expect(credentialSourceOf({ cert: '/c.pem' }, connection({}), {}).kind).toBe('certificate');
    const fromContext = 'the secret in secret-file /home/me/relay-secret of context "prod"';
    expect(credentialSourceOf({ secretFile: '/home/me/relay-secret' }, connection({ secret: 'v', contextCredential: fromContext }), {})).toEqual({
      kind: 'secret',
      description: fromContext,
    });
  });
});
