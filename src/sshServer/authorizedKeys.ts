import ssh2, { type ParsedKey } from 'ssh2';
import { isPlainTargetName } from '../protocol/targetName.js';
import { splitKeyLine, type KeyOption } from './authorizedKeysLine.js';
import { sshFingerprint } from '../ssh/sshKeyFingerprint.js';

/**
 * The `authorized_keys` file of the SSH server (docs/operations.md "SSH reverse
 * forwards (ssh -R)"): OpenSSH's format, where each key must carry the option
 * `dbgrelay-targets="web-1,api-*"`, the target names (patterns with `*` and `?`, as in
 * grants) the key may register with `ssh -R <name>:…`. A key without it is refused.
 *
 * ```
 * dbgrelay-targets="web-1,web-2" ssh-ed25519 AAAAC3Nza… deploy@web
 * restrict,dbgrelay-targets="api-*" ecdsa-sha2-nistp256 AAAAE2Vj… api fleet
 * ```
 */

/** The option naming the targets a key may register. */
export const targetsOptionName = 'dbgrelay-targets';

/** Key types the server accepts (what ssh2 verifies signatures for). */
export const supportedKeyTypes: readonly string[] = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'];

/**
 * OpenSSH options that restrict what the relay never grants anyway (no pty, no agent
 * or X11 forwarding, no rc file): accepted and ignored, so a line copied from an
 * OpenSSH server with `restrict` keeps working. Every other OpenSSH option
 * (`from`, `command`, `permitlisten`, `expiry-time`, …) is refused: it would restrict
 * something the relay does not enforce.
 */
const ignoredOptions: ReadonlySet<string> = new Set(['restrict', 'no-pty', 'no-agent-forwarding', 'no-x11-forwarding', 'no-user-rc']);

/** A pattern of `dbgrelay-targets`: target-name characters plus `*` and `?`. */
const targetPatternSyntax = /^[A-Za-z0-9._*?-]{1,63}$/;

/** One authorized key. */
export interface AuthorizedKey {
  /** Line number in the file (1-based). */
  readonly line: number;
  readonly keyType: string;
  /** `SHA256:…`, as `ssh-keygen -lf` prints it. */
  readonly fingerprint: string;
  /** The public key's wire-format blob (what a client presents). */
  readonly blob: Buffer;
  /** For signature verification. */
  readonly publicKey: ParsedKey;
  /** Target-name patterns this key may register. */
  readonly targets: readonly string[];
  /** The line's comment (e.g. `deploy@web-1`), for logs. */
  readonly comment: string;
}

/** A line that was not used, and why. */
export interface AuthorizedKeysProblem {
  readonly line: number;
  readonly message: string;
}

/** A parsed `authorized_keys` file. */
export interface AuthorizedKeys {
  readonly keys: readonly AuthorizedKey[];
  readonly problems: readonly AuthorizedKeysProblem[];
  /** The authorized key with this blob, if any. */
  find(blob: Buffer): AuthorizedKey | undefined;
}

/** True for words sshd would take as a key type (so they are not read as options). */
function looksLikeKeyType(word: string): boolean {
  return /^(ssh-[a-z0-9]+|ecdsa-sha2-[a-z0-9]+|sk-[a-z0-9@.-]+|[a-z0-9-]+-cert-v01@openssh\.com)$/.test(word);
}

/** Parses the `dbgrelay-targets` value: comma-separated patterns. Returns a message when malformed. */
export function parseTargetPatterns(value: string): string[] | string {
  const patterns = value.split(',').map((pattern) => pattern.trim());
  if (patterns.length === 0 || patterns.some((pattern) => pattern === '')) return `${targetsOptionName}: expected a comma-separated list of target names or patterns`;
  for (const pattern of patterns) {
    const wildcard = /[*?]/.test(pattern);
    if (!targetPatternSyntax.test(pattern) || (!wildcard && !isPlainTargetName(pattern))) {
      return `${targetsOptionName}: "${pattern}" is not a target name or pattern (letters, digits, ".", "_", "-", with "*" and "?")`;
    }
  }
  return patterns;
}

function targetsFrom(options: readonly KeyOption[]): string[] | string {
  let targets: string[] | undefined;
  for (const option of options) {
    if (option.name === targetsOptionName) {
      if (targets !== undefined) return `${targetsOptionName} given twice`;
      if (option.value === undefined) return `${targetsOptionName}: expected ${targetsOptionName}="name,pattern-*"`;
      const parsed = parseTargetPatterns(option.value);
      if (typeof parsed === 'string') return parsed;
      targets = parsed;
    } else if (!ignoredOptions.has(option.name)) {
      return `option ${option.name} is not supported (the relay understands ${targetsOptionName}, and ignores ${[...ignoredOptions].join(', ')})`;
    } else if (option.value !== undefined) {
      return `option ${option.name} takes no value`;
    }
  }
  return targets ?? `no ${targetsOptionName}="…" option: the key could register nothing`;
}

function parseLine(text: string, line: number): AuthorizedKey | string {
  const fields = splitKeyLine(text, looksLikeKeyType);
  if (typeof fields === 'string') return fields;
  if (!supportedKeyTypes.includes(fields.keyType)) return `unsupported key type "${fields.keyType}" (supported: ${supportedKeyTypes.join(', ')})`;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(fields.keyBase64)) return 'the key is not base64';
  const parsed = ssh2.utils.parseKey(`${fields.keyType} ${fields.keyBase64}`);
  if (parsed instanceof Error) return `the ${fields.keyType} key does not parse (${parsed.message})`;
  const publicKey = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!publicKey || publicKey.type !== fields.keyType) return `the key is not a ${fields.keyType} key`;
  const targets = targetsFrom(fields.options);
  if (typeof targets === 'string') return targets;
  const blob = publicKey.getPublicSSH();
  return { line, keyType: fields.keyType, fingerprint: sshFingerprint(blob), blob, publicKey, targets, comment: fields.comment };
}

/**
 * Parses the text of an `authorized_keys` file. Blank lines and lines starting with
 * `#` are skipped; every other line that is not a usable key is reported as a
 * problem with its line number (and never quoted: it may hold a key). The first line
 * of a key wins; a later duplicate is a problem.
 */
export function parseAuthorizedKeys(text: string): AuthorizedKeys {
  const keys: AuthorizedKey[] = [];
  const problems: AuthorizedKeysProblem[] = [];
  const byBlob = new Map<string, AuthorizedKey>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const key = parseLine(trimmed, line);
    if (typeof key === 'string') {
      problems.push({ line, message: key });
      return;
    }
    const id = key.blob.toString('base64');
    const earlier = byBlob.get(id);
    if (earlier) {
      problems.push({ line, message: `key ${key.fingerprint} is already on line ${earlier.line}; this line is ignored` });
      return;
    }
    byBlob.set(id, key);
    keys.push(key);
  });
  return { keys, problems, find: (blob) => byBlob.get(blob.toString('base64')) };
}
