import type { IncomingHttpHeaders } from 'node:http';

/**
 * The console's cookie. The `__Host-` prefix makes browsers accept it only when it is
 * `Secure`, has `Path=/` and no `Domain` (RFC 6265bis §4.1.3.2), so no other site or
 * path can plant or read it.
 */
export const consoleCookieName = '__Host-dbgrelay-console';

/** The value of the console's cookie in a request's `Cookie` header, if any. */
export function consoleCookieValue(headers: IncomingHttpHeaders): string | undefined {
  for (const part of (headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === consoleCookieName) return value.join('=');
  }
  return undefined;
}

/** `Set-Cookie` for a login: HttpOnly (no script reads it), Secure, SameSite=Strict, gone after `maxAgeMs`. */
export function loginCookie(value: string, maxAgeMs: number): string {
  return `${consoleCookieName}=${value}; Max-Age=${Math.max(0, Math.ceil(maxAgeMs / 1000))}; Path=/; Secure; HttpOnly; SameSite=Strict`;
}

/** `Set-Cookie` that removes the login cookie (logout). */
export function clearedCookie(): string {
  return loginCookie('', 0);
}
