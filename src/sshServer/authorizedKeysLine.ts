/**
 * Splits one `authorized_keys` line into its fields, in the syntax of OpenSSH's
 * sshd(8) "AUTHORIZED_KEYS FILE FORMAT": `[options] keytype base64-key [comment]`,
 * where options are comma-separated `name` or `name="value"` (a value may contain
 * spaces and commas, and `\"` for a quote). Only tokenizes; the meaning is checked in
 * authorizedKeys.ts.
 */

/** One `name` or `name="value"` option. */
export interface KeyOption {
  readonly name: string;
  /** Undefined for a bare flag such as `restrict`. */
  readonly value: string | undefined;
}

/** A tokenized line: options (maybe none), key type, base64 key, comment. */
export interface KeyLineFields {
  readonly options: readonly KeyOption[];
  readonly keyType: string;
  readonly keyBase64: string;
  readonly comment: string;
}

/** Reads the options field that starts `line`; returns the options and the rest, or a message. */
function readOptions(line: string): { options: KeyOption[]; rest: string } | string {
  const options: KeyOption[] = [];
  let index = 0;
  for (;;) {
    const nameMatch = /^[A-Za-z0-9_-]+/.exec(line.slice(index));
    if (!nameMatch) return `expected an option name at column ${index + 1}`;
    const name = nameMatch[0].toLowerCase();
    index += nameMatch[0].length;
    let value: string | undefined;
    if (line[index] === '=') {
      if (line[index + 1] !== '"') return `option ${name}: expected a value in double quotes`;
      index += 2;
      let text = '';
      for (;;) {
        if (index >= line.length) return `option ${name}: missing closing quote`;
        const char = line[index]!;
        if (char === '\\' && line[index + 1] === '"') {
          text += '"';
          index += 2;
        } else if (char === '"') {
          index += 1;
          break;
        } else {
          text += char;
          index += 1;
        }
      }
      value = text;
    }
    options.push({ name, value });
    const next = line[index];
    if (next === ',') {
      index += 1;
      continue;
    }
    if (next === ' ' || next === '\t') return { options, rest: line.slice(index).trimStart() };
    return next === undefined ? 'expected a key after the options' : `unexpected "${next}" after option ${name}`;
  }
}

/**
 * Tokenizes one non-empty, non-comment line. `isKeyType` tells whether the first word
 * is a key type (then there are no options), as sshd decides. Returns a message
 * (never quoting the key) when the line cannot be read.
 */
export function splitKeyLine(line: string, isKeyType: (word: string) => boolean): KeyLineFields | string {
  const first = /^\S+/.exec(line)?.[0] ?? '';
  let options: KeyOption[] = [];
  let rest = line;
  if (!isKeyType(first)) {
    const read = readOptions(line);
    if (typeof read === 'string') {
      // A first word that is neither an option list nor a known type is most likely a key type we do not support.
      return /^[a-z0-9@.-]+$/.test(first) && /\s+AAAA/.test(line) ? `unsupported key type "${first}"` : read;
    }
    options = read.options;
    rest = read.rest;
  }
  const match = /^(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(rest);
  if (!match) return 'expected a key type and a base64 key';
  return { options, keyType: match[1]!, keyBase64: match[2]!, comment: (match[3] ?? '').trim() };
}
