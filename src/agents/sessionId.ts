import { randomBytes } from 'node:crypto';

/** Characters of a session id's random part: 192 bits in base64url. */
const randomChars = 32;

/**
 * A fresh one-time session id: 192 random bits, base64url (docs/protocol.md §5 asks
 * for ≥128). With several relay instances, `issuer` (the instance id) follows in
 * base64url, so that an instance an agent's data connection lands on can tell which
 * instance is waiting for it; the agent treats the id as opaque either way.
 */
export function newSessionId(issuer?: string): string {
  const id = randomBytes(24).toString('base64url');
  return issuer === undefined ? id : id + Buffer.from(issuer, 'utf8').toString('base64url');
}

/** The instance id a session id names (see {@link newSessionId}), undefined when it names none. */
export function sessionIdIssuer(sessionId: string): string | undefined {
  if (sessionId.length <= randomChars) return undefined;
  const issuer = Buffer.from(sessionId.slice(randomChars), 'base64url').toString('utf8');
  return /^[A-Za-z0-9._-]{1,64}$/.test(issuer) ? issuer : undefined;
}
