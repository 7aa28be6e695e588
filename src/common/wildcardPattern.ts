/**
 * A whole-string regular expression for a glob-like `pattern`: `*` is any run of
 * characters, `?` exactly one, everything else literal. Target-name grants and
 * OpenSSH `known_hosts` host patterns both use it.
 */
export function wildcardPattern(pattern: string): RegExp {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 'u');
}
