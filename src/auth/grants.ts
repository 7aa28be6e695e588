import { RelayError } from '../common/relayError.js';
import type { Principal, Role } from './principal.js';
import type { Grants } from '../protocol/scopes.js';
import { wildcardPattern } from '../common/wildcardPattern.js';
import { targetGroupOf } from '../protocol/targetName.js';

/** Grants of the relay-wide shared secret: everything (protocol v1). */
export const allGrants: Grants = Object.freeze({ register: Object.freeze(['*']), attach: Object.freeze(['*']), admin: true });

/** Intersection of two grants: what both credentials allow (e.g. mTLS and JWT together). */
export function intersectGrants(a: Grants, b: Grants): Grants {
  const both = (x: readonly string[], y: readonly string[]): string[] => {
    if (x.includes('*')) return [...y];
    if (y.includes('*')) return [...x];
    return x.filter((pattern) => y.includes(pattern));
  };
  return Object.freeze({
    register: Object.freeze(both(a.register, b.register)),
    attach: Object.freeze(both(a.attach, b.attach)),
    admin: a.admin && b.admin,
  });
}

/** True when target name `name` matches `pattern` (`*` any run, `?` one character). */
export function matchesPattern(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  return wildcardPattern(pattern).test(name);
}

/**
 * True when a target pattern (a grant, a policy rule, a pause bound) covers target
 * `name`: the pattern matches the name, or, for a group member (`web-1/12345`), its
 * group (`web-1`). A pattern naming one member covers only that member.
 */
export function targetPatternCovers(pattern: string, name: string): boolean {
  if (matchesPattern(pattern, name)) return true;
  const group = targetGroupOf(name);
  return group !== undefined && matchesPattern(pattern, group);
}

/** True when `principal` holds `role` for at least some target. */
export function hasRole(principal: Principal, role: Role): boolean {
  const { grants } = principal;
  if (role === 'admin') return grants.admin;
  return (role === 'agent' ? grants.register : grants.attach).length > 0;
}

/** Throws `AUTH_FAILED` unless `principal` holds `role` for some target. */
export function requireRole(principal: Principal, role: Role): void {
  if (!hasRole(principal, role)) throw new RelayError('AUTH_FAILED', `credential does not allow the ${role} role`);
}

/**
 * Throws unless `principal` may act as `role` on target `name` right now: the role's
 * patterns must match the name, and the credential must not have expired (checked
 * for every session, docs/protocol.md §2). The error names the role and target,
 * never the credential.
 */
export function requireTargetGrant(principal: Principal, role: 'agent' | 'client', name: string, now = Date.now()): void {
  if (principal.expiresAt !== undefined && now >= principal.expiresAt) {
    throw new RelayError('AUTH_FAILED', 'credential expired');
  }
  const patterns = role === 'agent' ? principal.grants.register : principal.grants.attach;
  if (!patterns.some((pattern) => targetPatternCovers(pattern, name))) {
    const verb = role === 'agent' ? 'register' : 'attach to';
    throw new RelayError('AUTH_FAILED', `credential does not allow to ${verb} target ${JSON.stringify(name)}`);
  }
}
