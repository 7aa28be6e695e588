import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = join(root, 'src');

/** The rows of the folder table in docs/architecture.md: folder → folders it may import. */
function allowedImports(): Map<string, Set<string>> {
  const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
  const table = doc.slice(doc.indexOf('## Folders'), doc.indexOf('## Layers'));
  const rows = new Map<string, Set<string>>();
  for (const match of table.matchAll(/^\| `([A-Za-z]+)\/` \| [^|]+ \| ([^|]+) \|$/gm)) {
    const allowed = match[2]!.trim() === '(nothing)' ? [] : match[2]!.split(',').map((name) => name.trim());
    rows.set(match[1]!, new Set(allowed));
  }
  return rows;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** `from '../x/y.js'` and `import('../x/y.js')` specifiers of one file, resolved to src-relative paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from |import\()'(\.{1,2}\/[^']+)'/g)].map((match) => relative(src, resolve(dirname(file), match[1]!)));
}

describe('the folders of src/', () => {
  const rows = allowedImports();
  const folders = readdirSync(src, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);

  it('each have a row in docs/architecture.md, and every row a folder', () => {
    expect([...rows.keys()].sort()).toEqual([...folders].sort());
  });

  it('import only what their row allows', () => {
    const breaches: string[] = [];
    for (const file of sourceFiles(src)) {
      const from = relative(src, file).split(sep)[0]!;
      for (const target of importsOf(file)) {
        const to = target.split(sep)[0]!;
        if (to !== from && !rows.get(from)?.has(to)) breaches.push(`${relative(root, file)} imports ${target}`);
      }
    }
    expect(breaches).toEqual([]);
  });

  it('allow no circle: a folder never reaches itself through the folders it may import', () => {
    const reaches = (from: string, seen = new Set<string>()): Set<string> => {
      for (const next of rows.get(from) ?? []) if (!seen.has(next)) reaches(next, seen.add(next));
      return seen;
    };
    expect(folders.filter((folder) => reaches(folder).has(folder))).toEqual([]);
  });

  it('hold no import circle between files either', () => {
    const graph = new Map(sourceFiles(src).map((file) => [relative(src, file), importsOf(file).map((target) => target.replace(/\.js$/, '.ts'))]));
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        circles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) if (graph.has(next)) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(circles).toEqual([]);
  });
});
