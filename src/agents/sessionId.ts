import { randomBytes } from 'node:crypto';

/** A fresh one-time session id: 192 random bits, base64url (docs/protocol.md §5 asks for ≥128). */
export function newSessionId(): string {
  return randomBytes(24).toString('base64url');
}
