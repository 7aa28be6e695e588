import { createHmac, timingSafeEqual } from 'node:crypto';
import { wildcardPattern } from '../common/wildcardPattern.js';

/**
 * OpenSSH `known_hosts` files (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): one key per
 * line, `[@marker] hostpatterns keytype base64-key [comment]`. Host patterns are a
 * comma-separated list with `*`/`?` wildcards and `!` negation; a host on a port
 * other than 22 is written `[host]:port`; a hashed entry (`HashKnownHosts`) is
 * `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.
 */

/** One usable line of a `known_hosts` file. */
export interface KnownHostEntry {
  /** `@revoked` keys are refused; `@cert-authority` lines (host certificates) are not supported and never match a plain key. */
  readonly marker: 'revoked' | 'cert-authority' | undefined;
  /** Tells whether the entry names a host (`[host]:port` form for ports other than 22). */
  readonly matches: (lookupName: string) => boolean;
  readonly keyType: string;
  readonly key: Buffer;
  /** 1-based line number, for messages. */
  readonly line: number;
}

/** A parsed `known_hosts` file. */
export interface KnownHosts {
  readonly entries: readonly KnownHostEntry[];
  /** Lines that are neither blank, comments nor valid entries (OpenSSH skips them too). */
  readonly invalidLines: readonly number[];
}

/** Parses the text of a `known_hosts` file; malformed lines are skipped and listed. */
export function parseKnownHosts(text: string): KnownHosts {
  const entries: KnownHostEntry[] = [];
  const invalidLines: number[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const entry = parseLine(line, index + 1);
    if (entry) entries.push(entry);
    else invalidLines.push(index + 1);
  });
  return { entries, invalidLines };
}

function parseLine(line: string, lineNumber: number): KnownHostEntry | undefined {
  const fields = line.split(/\s+/);
  let marker: KnownHostEntry['marker'];
  if (fields[0]!.startsWith('@')) {
    const name = fields.shift()!;
    if (name === '@revoked') marker = 'revoked';
    else if (name === '@cert-authority') marker = 'cert-authority';
    else return undefined;
  }
  const [hosts, keyType, keyText] = fields;
  if (hosts === undefined || keyType === undefined || keyText === undefined) return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyText)) return undefined;
  const key = Buffer.from(keyText, 'base64');
  const matches = hosts.startsWith('|') ? hashedMatcher(hosts) : patternListMatcher(hosts);
  if (!matches || key.length === 0) return undefined;
  return { marker, matches, keyType, key, line: lineNumber };
}

/** `|1|salt|hash`: HMAC-SHA1 keyed with the salt over the lookup name (OpenSSH hostfile.c `host_hash`). */
function hashedMatcher(field: string): KnownHostEntry['matches'] | undefined {
  const parts = field.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return undefined;
  const salt = Buffer.from(parts[2]!, 'base64');
  const hash = Buffer.from(parts[3]!, 'base64');
  if (salt.length !== 20 || hash.length !== 20) return undefined;
  return (name) => timingSafeEqual(createHmac('sha1', salt).update(name.toLowerCase()).digest(), hash);
}

/**
 * A comma-separated pattern list (OpenSSH match.c `match_hostname`): matches when a
 * positive pattern matches and no negated (`!`) one does; case-insensitive.
 */
function patternListMatcher(field: string): KnownHostEntry['matches'] | undefined {
  const patterns = field.split(',').filter((p) => p !== '');
  if (patterns.length === 0) return undefined;
  const compiled = patterns.map((pattern) => {
    const negated = pattern.startsWith('!');
    return { negated, regex: wildcardPattern((negated ? pattern.slice(1) : pattern).toLowerCase()) };
  });
  return (name) => {
    const lower = name.toLowerCase();
    let positive = false;
    for (const { negated, regex } of compiled) {
      if (!regex.test(lower)) continue;
      if (negated) return false;
      positive = true;
    }
    return positive;
  };
}

/** The name OpenSSH looks a host up by: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The entries of `knownHosts` that name `host` on `port`. */
export function entriesFor(knownHosts: KnownHosts, host: string, port: number): KnownHostEntry[] {
  const name = knownHostsName(host, port);
  return knownHosts.entries.filter((entry) => entry.matches(name));
}
