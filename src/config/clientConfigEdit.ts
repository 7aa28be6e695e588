import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Document, parseDocument } from 'yaml';
import { RelayError } from '../common/relayError.js';
import { contextOf, parseClientConfig, readClientConfig, type ClientConfigFile } from './clientConfigFile.js';
import { contextNamePattern, credentialKeys, type ClientContext } from './clientConfigSchema.js';

/** Keys of a context that exclude one another: setting one removes the others of its group. */
const exclusiveGroups: ReadonlyArray<readonly (keyof ClientContext)[]> = [['ca', 'fingerprints'], credentialKeys];

function checkName(name: string): void {
  if (!contextNamePattern.test(name)) throw new RelayError('CONFIG_INVALID', 'a context name is 1 to 64 letters, digits, ., _ or -, starting with a letter or digit');
}

/**
 * Writes the client config file with `edit` applied to its YAML document (comments and
 * the other contexts are kept), after checking the result as {@link readClientConfig}
 * would. The directory is created (mode 0700) and the file replaced atomically with
 * mode 0600: it names the files that hold credentials.
 */
function editClientConfig(env: NodeJS.ProcessEnv, edit: (document: Document, file: ClientConfigFile) => void): string {
  const file = readClientConfig(env); // refuses a malformed file before touching it
  const text = file.exists ? readFileSync(file.path, 'utf8') : '';
  const document: Document = text.trim() === '' ? new Document({}) : parseDocument(text);
  edit(document, file);
  const updated = document.toString();
  parseClientConfig(updated, file.path, env);
  mkdirSync(dirname(file.path), { recursive: true, mode: 0o700 });
  const temporary = join(dirname(file.path), `.config.yaml.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, updated, { mode: 0o600 });
    chmodSync(temporary, 0o600);
    renameSync(temporary, file.path);
  } finally {
    rmSync(temporary, { force: true });
  }
  return file.path;
}

/**
 * Creates or updates the context `name` with `fields` (paths should be absolute);
 * a field of an exclusive group (ca or fingerprints; one credential source) removes the
 * others of its group. Returns the file's path. Throws `CONFIG_INVALID`.
 */
export function setClientContext(env: NodeJS.ProcessEnv, name: string, fields: ClientContext): string {
  checkName(name);
  return editClientConfig(env, (document) => {
    if (!document.hasIn(['contexts', name])) document.setIn(['contexts', name], document.createNode({}));
    for (const group of exclusiveGroups) {
      if (!group.some((key) => fields[key] !== undefined)) continue;
      for (const key of group) if (fields[key] === undefined) document.deleteIn(['contexts', name, key]);
    }
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) document.setIn(['contexts', name, key], document.createNode(value));
  });
}

/** Makes `name`, which must exist, the current context. Returns the file's path. Throws `CONFIG_INVALID`. */
export function useClientContext(env: NodeJS.ProcessEnv, name: string): string {
  return editClientConfig(env, (document, file) => {
    contextOf(file, name, 'use-context');
    document.set('current-context', name);
  });
}

/** Removes the context `name` (and `current-context` when it named it). Returns the file's path. */
export function deleteClientContext(env: NodeJS.ProcessEnv, name: string): string {
  return editClientConfig(env, (document, file) => {
    contextOf(file, name, 'delete-context');
    document.deleteIn(['contexts', name]);
    if (document.get('current-context') === name) document.delete('current-context');
  });
}
