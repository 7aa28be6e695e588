import type { z } from 'zod';
import { didYouMean } from '../common/closestName.js';
import { printable } from '../common/printable.js';
import { schemaKeysAt } from './schemaKeys.js';
import type { KeyLocation } from './yamlSource.js';

/** Where the values of a configuration file were written. */
export interface ConfigFileLines {
  readonly file: string;
  /** The line of the key at a path, or of its closest ancestor in the file, as {@link YamlSource.locate}. */
  locate(path: readonly PropertyKey[]): KeyLocation | undefined;
}

/** What {@link formatConfigIssues} needs besides the issues. */
export interface ConfigIssueContext {
  readonly schema: z.core.$ZodType;
  /** The merged tree that was validated (the values shown come from it). */
  readonly tree: unknown;
  /** Keys set by an environment variable or a flag, and its name: these win over the file. */
  readonly sources: ReadonlyMap<string, string>;
  /** The config file, when one was read. */
  readonly file?: ConfigFileLines;
}

/** Longest value quoted in an error; longer ones are cut with `…`. */
const maxShownChars = 40;

/** Path segments whose values are never quoted: they may hold a secret, or point to one. */
const secretLike = /secret|token|password|passphrase|credential|private|bearer|^key$|keyfile|authorization/i;

function valueAt(tree: unknown, path: readonly PropertyKey[]): unknown {
  let node = tree;
  for (const segment of path) node = typeof node === 'object' && node !== null ? (node as Record<PropertyKey, unknown>)[segment] : undefined;
  return node;
}

/**
 * `, given VALUE` for the value at `path`: strings and numbers quoted (control
 * characters replaced, cut at {@link maxShownChars}), lists and mappings by kind only;
 * only the kind for a key that looks secret. Empty when nothing was given.
 */
export function givenValue(path: readonly PropertyKey[], value: unknown): string {
  if (value === undefined) return '';
  const kind = value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a mapping' : `a ${typeof value}`;
  if (typeof value === 'object' && value !== null) return `, given ${kind}`;
  const secret = path.some((segment) => typeof segment === 'string' && secretLike.test(segment)) || (typeof value === 'string' && /:\/\/[^/]*@/.test(value));
  if (secret) return `, given ${kind} (not shown)`;
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  const shown = text.length > maxShownChars ? `${text.slice(0, maxShownChars - 1)}…` : text;
  return `, given ${printable(shown)}`;
}

/**
 * Whether an issue quotes the value: a value of the wrong type or not among the allowed
 * ones, or a number out of range. Other checks (a URL's form, a string's length, checks
 * across keys) concern values that may carry a secret, so they name what was expected only.
 */
function showsValue(issue: z.core.$ZodIssue, value: unknown): boolean {
  if (issue.code === 'invalid_type' || issue.code === 'invalid_value') return true;
  return (issue.code === 'too_big' || issue.code === 'too_small') && typeof value === 'number';
}

function origin(path: readonly PropertyKey[], context: ConfigIssueContext): string {
  const source = context.sources.get(path.join('.'));
  if (source !== undefined) return ` (from ${source})`;
  const location = context.file?.locate(path);
  if (location === undefined) return '';
  // A key missing from the file (required by another key, or a default that conflicts) is not "from" its ancestor's line.
  return ` (${location.exact ? 'from' : 'under'} ${context.file!.file}:${location.line})`;
}

/**
 * One message for all validation issues, `; `-separated: each names the key, what was
 * expected, the value given (see {@link givenValue}) and where it came from (the file
 * and line, or the environment variable or flag; `under FILE:LINE` names the closest
 * ancestor written in the file when the key itself is not there); an unknown key gets the closest known
 * key at its level as a "did you mean".
 */
export function formatConfigIssues(issues: readonly z.core.$ZodIssue[], context: ConfigIssueContext): string {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = issue.path;
    const prefix = path.length > 0 ? `${path.join('.')}.` : '';
    if (issue.code === 'unrecognized_keys') {
      const known = schemaKeysAt(context.schema, path);
      for (const key of issue.keys) lines.push(`${prefix}${key}: unknown key${didYouMean(key, known)}${origin([...path, key], context)}`);
      continue;
    }
    const value = valueAt(context.tree, path);
    const given = showsValue(issue, value) ? givenValue(path, value) : '';
    lines.push(`${path.join('.') || '(root)'}: ${issue.message}${given}${origin(path, context)}`);
  }
  return lines.join('; ');
}
