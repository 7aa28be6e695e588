import { parseBoundedJson } from '../common/jsonDepth.js';
import type { Credential } from './principal.js';

/** Longest identity kept for failure counting and logs. */
const maxIdentityLength = 128;

function bounded(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '' || value.length > maxIdentityLength) return undefined;
  return /^[\x20-\x7e]+$/.test(value) ? value : undefined;
}

/**
 * Who a refused credential claims to be, for counting failures per identity and for
 * logs: `jwt:<sub>` from a bearer token's payload, decoded without verification
 * (RFC 7519 §7.2 steps 1–7, no signature check). Never the credential or any part of
 * it that proves anything; undefined when it names nobody (a shared secret) or when
 * the claim is not a short printable string.
 */
export function identityHint(credential: Credential | undefined): string | undefined {
  if (credential?.kind !== 'bearer') return undefined;
  const parts = credential.token.split('.');
  if (parts.length !== 3 || parts[1]!.length > 8192) return undefined;
  try {
    const payload: unknown = parseBoundedJson(Buffer.from(parts[1]!, 'base64url'), 'JWT payload');
    const sub = typeof payload === 'object' && payload !== null ? (payload as { sub?: unknown }).sub : undefined;
    const name = bounded(sub);
    return name === undefined ? undefined : `jwt:${name}`;
  } catch {
    return undefined;
  }
}

/** `cert:<CN>` for a certificate's common name, or undefined when it is not a short printable string. */
export function certificateIdentity(commonName: string | undefined): string | undefined {
  const name = bounded(commonName);
  return name === undefined ? undefined : `cert:${name}`;
}
