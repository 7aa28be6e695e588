import { describe, expect, it } from 'vitest';
import {
  AttachSecret,
  attachSecretPrincipal,
  authenticateForAttach,
  requireAttachSecretLength,
  type AttachGuard,
  type AttachSecretLookup,
} from '../../../src/auth/attachSecret.js';
import { hasRole, requireTargetGrant } from '../../../src/auth/grants.js';
import type { Authenticator, Credential } from '../../../src/auth/principal.js';
import { SecretAuthenticator } from '../../../src/auth/secretAuthenticator.js';
import { isRelayError, RelayError } from '../../../src/common/relayError.js';

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return isRelayError(error) ? error.code : 'not a RelayError';
  }
  return undefined;
}

const relay = new SecretAuthenticator('relay-wide-secret');
const secrets = new Map([
  ['web-1', AttachSecret.fromSecret('web-1-attach')],
  ['web-2', AttachSecret.fromSecret('web-2-attach')],
]);
const lookup: AttachSecretLookup = (name) => secrets.get(name);
const secret = (value: string): Credential => ({ kind: 'secret', secret: value });

describe('AttachSecret', () => {
  it('matches only its own secret and never serializes it', () => {
    const s = AttachSecret.fromSecret('hunter2-attach');
    expect(s.matches('hunter2-attach')).toBe(true);
    expect(s.matches('hunter2-attach ')).toBe(false);
    expect(s.matches('')).toBe(false);
    expect(JSON.stringify({ s })).toBe('{"s":"[attach secret]"}');
    expect(JSON.stringify({ s })).not.toContain('hunter2');
  });
});

describe('attachSecretPrincipal', () => {
  it('grants attach to that one target, no register, no admin', () => {
    const principal = attachSecretPrincipal('web-1');
    expect(principal).toEqual({ id: 'attach-secret:web-1', method: 'attachSecret', grants: { register: [], attach: ['web-1'], admin: false } });
    expect(hasRole(principal, 'client')).toBe(true);
    expect(hasRole(principal, 'agent')).toBe(false);
    expect(hasRole(principal, 'admin')).toBe(false);
    expect(() => requireTargetGrant(principal, 'client', 'web-1')).not.toThrow();
    for (const other of ['web-2', 'web-10', 'web-1x', 'xweb-1']) {
      expect(() => requireTargetGrant(principal, 'client', other)).toThrow(expect.toSatisfy((e) => isRelayError(e, 'AUTH_FAILED')));
    }
    expect(() => requireTargetGrant(principal, 'agent', 'web-1')).toThrow(/register/);
  });

  it('matches a target name with a dot literally', () => {
    expect(() => requireTargetGrant(attachSecretPrincipal('a.b'), 'client', 'aXb')).toThrow();
  });
});

describe('authenticateForAttach', () => {
  it('accepts the relay secret for any target, with every grant', async () => {
    const principal = await authenticateForAttach(relay, secret('relay-wide-secret'), 'web-1', lookup);
    expect(principal.method).toBe('secret');
    expect(principal.grants.attach).toEqual(['*']);
  });

  it("accepts a target's attach secret for that target only", async () => {
    expect(await authenticateForAttach(relay, secret('web-1-attach'), 'web-1', lookup)).toEqual(attachSecretPrincipal('web-1'));
    expect(await authenticateForAttach(relay, secret('web-2-attach'), 'web-2', lookup)).toEqual(attachSecretPrincipal('web-2'));
    expect(await codeOf(authenticateForAttach(relay, secret('web-1-attach'), 'web-2', lookup))).toBe('AUTH_FAILED');
    expect(await codeOf(authenticateForAttach(relay, secret('web-1-attach'), 'web-3', lookup))).toBe('AUTH_FAILED');
  });

  it('refuses wrong and missing credentials with the authenticator’s own codes', async () => {
    expect(await codeOf(authenticateForAttach(relay, secret('web-1-attach!'), 'web-1', lookup))).toBe('AUTH_FAILED');
    expect(await codeOf(authenticateForAttach(relay, undefined, 'web-1', lookup))).toBe('AUTH_REQUIRED');
    expect(await codeOf(authenticateForAttach(relay, { kind: 'bearer', token: 'web-1-attach' }, 'web-1', lookup))).toBe('AUTH_FAILED');
  });

  it('does not turn other refusals into attach-secret checks', async () => {
    let looked = 0;
    const counting: AttachSecretLookup = (name) => {
      looked += 1;
      return secrets.get(name);
    };
    const locked: Authenticator = { authenticate: () => Promise.reject(new RelayError('BAD_REQUEST', 'locked out')) };
    expect(await codeOf(authenticateForAttach(locked, secret('web-1-attach'), 'web-1', counting))).toBe('BAD_REQUEST');
    expect(looked).toBe(0);
  });

  it('asks the guard before comparing, and tells it the result; relay-wide credentials never meet it', async () => {
    const calls: string[] = [];
    let closed = false;
    const guard: AttachGuard = {
      check: () => {
        calls.push('check');
        if (closed) throw new RelayError('AUTH_LOCKED', 'closed');
      },
      failed: () => calls.push('failed'),
      matched: () => calls.push('matched'),
    };
    expect((await authenticateForAttach(relay, secret('relay-wide-secret'), 'web-1', lookup, guard)).method).toBe('secret');
    expect(await codeOf(authenticateForAttach(relay, { kind: 'bearer', token: 'a.b.c' }, 'web-1', lookup, guard))).toBe('AUTH_FAILED');
    expect(calls).toEqual([]);
    expect(await codeOf(authenticateForAttach(relay, secret('web-1-attach!'), 'web-1', lookup, guard))).toBe('AUTH_FAILED');
    expect(await codeOf(authenticateForAttach(relay, secret('web-1-attach!'), 'no-such-target', lookup, guard))).toBe('AUTH_FAILED');
    expect(await authenticateForAttach(relay, secret('web-1-attach'), 'web-1', lookup, guard)).toEqual(attachSecretPrincipal('web-1'));
    expect(calls).toEqual(['check', 'failed', 'check', 'failed', 'check', 'matched']);
    // Closed: the right secret is refused too, without a comparison; the relay secret still works.
    closed = true;
    let looked = false;
    expect(await codeOf(authenticateForAttach(relay, secret('web-1-attach'), 'web-1', () => ((looked = true), undefined), guard))).toBe('AUTH_LOCKED');
    expect(looked).toBe(false);
    expect((await authenticateForAttach(relay, secret('relay-wide-secret'), 'web-1', lookup, guard)).method).toBe('secret');
  });

  it('never puts a secret in the refusal message', async () => {
    try {
      await authenticateForAttach(relay, secret('guess-web-1'), 'web-1', lookup);
    } catch (error) {
      expect((error as Error).message).not.toMatch(/guess|attach|relay-wide/);
    }
    expect.assertions(1);
  });
});

describe('requireAttachSecretLength', () => {
  it('refuses a secret shorter than the minimum with BAD_REQUEST, naming the minimum and a recipe, never the secret', () => {
    let refusal: unknown;
    try {
      requireAttachSecretLength('letmein', 16);
    } catch (error) {
      refusal = error;
    }
    expect(isRelayError(refusal, 'BAD_REQUEST')).toBe(true);
    expect((refusal as Error).message).toMatch(/7 characters, at least 16/);
    expect((refusal as Error).message).toContain('secrets.token_urlsafe(24)');
    expect((refusal as Error).message).not.toContain('letmein');
    expect(() => requireAttachSecretLength('x'.repeat(16), 16)).not.toThrow();
  });
});
