import { RelayError } from '../common/relayError.js';

/**
 * What a credential allows, in the scope syntax of JWTs:
 * `register:<pattern>` (agent: may register targets whose name matches),
 * `attach:<pattern>` (client: may attach to matching targets), `admin` (list targets,
 * read audit, issue tokens). A pattern is a target name where `*` matches any run of
 * characters and `?` one character; nothing else is special.
 */
export interface Grants {
  readonly register: readonly string[];
  readonly attach: readonly string[];
  readonly admin: boolean;
}

const scopePattern = /^(register|attach):([\x21-\x7e]{1,256})$/;

/**
 * Parses scope strings (a JWT's space-separated `scope` claim split into words, or a
 * configured list). Unknown scopes are ignored, as OAuth scopes of other services may
 * share a token; a malformed `register:`/`attach:` scope throws `AUTH_FAILED`.
 */
export function grantsFromScopes(scopes: Iterable<string>): Grants {
  const register: string[] = [];
  const attach: string[] = [];
  let admin = false;
  for (const scope of scopes) {
    if (scope === 'admin') {
      admin = true;
      continue;
    }
    if (!scope.startsWith('register:') && !scope.startsWith('attach:')) continue;
    const match = scopePattern.exec(scope);
    if (!match) throw new RelayError('AUTH_FAILED', 'malformed scope in credential');
    (match[1] === 'register' ? register : attach).push(match[2]!);
  }
  return Object.freeze({ register: Object.freeze(register), attach: Object.freeze(attach), admin });
}
