import { isAlias, isMap, isSeq, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { RelayError } from '../common/relayError.js';

/** A YAML file parsed into plain values, remembering where each key was written. */
export interface YamlSource {
  /** The document as plain JavaScript values (undefined for an empty file). */
  readonly value: unknown;
  /**
   * The 1-based line of the key at `path` (or of the list item), or of the closest
   * ancestor written in the file; undefined when not even the first segment is there.
   */
  lineOf(path: readonly PropertyKey[]): number | undefined;
  /**
   * {@link lineOf} and whether it is the line of `path` itself (`exact`) or of the
   * closest ancestor written in the file (the key is missing there).
   */
  locate(path: readonly PropertyKey[]): KeyLocation | undefined;
}

/** Where a key was written: its line, or its closest written ancestor's (`exact` false). */
export interface KeyLocation {
  readonly line: number;
  readonly exact: boolean;
}

/** Bound on alias expansion, as the yaml package's default: a "billion laughs" file fails instead of filling memory. */
const maxAliasCount = 100;

/**
 * Parses `text` (the contents of `file`) as one YAML document, keeping the position of
 * every node (yaml's `LineCounter`). A syntax error is `CONFIG_INVALID` naming the file
 * and line with the parser's first message line (it quotes the source line after it).
 */
export function parseYamlSource(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const error = document.errors[0];
  if (error !== undefined) {
    const line = error.linePos?.[0].line ?? lineCounter.linePos(error.pos[0]).line;
    throw new RelayError('CONFIG_INVALID', `config file ${file}:${line}: ${error.message.split('\n')[0]}`);
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount });
  } catch (cause) {
    throw new RelayError('CONFIG_INVALID', `config file ${file}: ${String((cause as Error).message).split('\n')[0]}`);
  }
  const locate = (path: readonly PropertyKey[]): KeyLocation | undefined => locateKey(document, lineCounter, path);
  return { value, lineOf: (path) => locate(path)?.line, locate };
}

function locateKey(document: Document, lineCounter: LineCounter, path: readonly PropertyKey[]): KeyLocation | undefined {
  let node: unknown = document.contents;
  let line: number | undefined;
  let found = 0;
  const lineAt = (target: Node | null | undefined): number | undefined => (target?.range ? lineCounter.linePos(target.range[0]).line : undefined);
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(document);
    if (isMap(node)) {
      const pair = node.items.find((item) => (isScalar(item.key) ? item.key.value : item.key) === segment);
      if (pair === undefined) break;
      line = lineAt(pair.key as Node) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (item === undefined) break;
      line = lineAt(item as Node) ?? line;
      node = item;
    } else break;
    found += 1;
  }
  return line === undefined ? undefined : { line, exact: found === path.length };
}
