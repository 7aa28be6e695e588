import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';

/**
 * scripts/build.mjs, the build behind `npm run build`, `npm start` and `npm pack`: run
 * on a two-file project with the repository's own TypeScript, so every compile is real.
 * Without the standard library (`noLib`, the few global types tsc needs declared by
 * hand) a compile takes a third of a second instead of several.
 */
const globalTypes = ['Array<T>', 'Boolean', 'CallableFunction', 'Function', 'IArguments', 'NewableFunction', 'Number', 'Object', 'RegExp', 'String'];
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string>; engines: { node: string } };

let project = '';

beforeEach(() => {
  project = mkdtempSync(join(tmpdir(), 'dbgrelay-build-'));
  mkdirSync(join(project, 'scripts'));
  mkdirSync(join(project, 'src'));
  copyFileSync(join(root, 'scripts', 'build.mjs'), join(project, 'scripts', 'build.mjs'));
  symlinkSync(join(root, 'node_modules'), join(project, 'node_modules'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, noLib: true, module: 'NodeNext', target: 'ES2022', types: [], rootDir: 'src', outDir: 'dist' }, include: ['src'] }),
  );
  writeFileSync(join(project, 'src', 'globals.d.ts'), globalTypes.map((name) => `interface ${name} {}\n`).join(''));
  writeFileSync(join(project, 'src', 'a.ts'), 'export const a: number = 1;\n');
  writeFileSync(join(project, 'src', 'b.ts'), 'export const b: string = "b";\n');
  return () => rmSync(project, { recursive: true, force: true });
});

/** Runs the build script of the project; its status, its stdout and all it printed. */
function build(...args: string[]): { status: number | null; stdout: string; output: string } {
  const run = spawnSync(process.execPath, [join(project, 'scripts', 'build.mjs'), ...args], { cwd: project, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, output: run.stdout + run.stderr };
}

const builtA = (): string => join(project, 'dist', 'a.js');

describe('scripts/build.mjs', () => {
  it('compiles when dist/ has no stamp, and a second start does not compile again', () => {
    const first = build('--if-stale');
    expect(first.status, first.output).toBe(0);
    expect(first.output).toContain('compiling');
    expect(readFileSync(builtA(), 'utf8')).toContain('export const a = 1;');
    const builtAt = statSync(builtA()).mtimeMs;

    const second = build('--if-stale');
    expect(second.status, second.output).toBe(0);
    expect(second.output).toContain('dist/ is current with src/, not compiling');
    expect(statSync(builtA()).mtimeMs).toBe(builtAt);
  });

  it('compiles again after a source or tsconfig.json changed, and drops the output of a deleted source', () => {
    expect(build('--if-stale').status).toBe(0);
    writeFileSync(join(project, 'src', 'a.ts'), 'export const a: number = 2;\n');
    rmSync(join(project, 'src', 'b.ts'));
    const changed = build('--if-stale');
    expect(changed.output).toContain('compiling');
    expect(readFileSync(builtA(), 'utf8')).toContain('export const a = 2;');
    expect(existsSync(join(project, 'dist', 'b.js'))).toBe(false);

    const tsconfig = JSON.parse(readFileSync(join(project, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ ...tsconfig, compilerOptions: { ...tsconfig.compilerOptions, target: 'ES2020' } }));
    expect(build('--if-stale').output).toContain('compiling');
    expect(build('--if-stale').output).toContain('is current');
  });

  it('always compiles without --if-stale (npm run build)', () => {
    expect(build().status).toBe(0);
    expect(build().output).toContain('compiling');
  });

  it('fails on a type error, still puts the emitted output in dist/, and leaves no stamp so the next start compiles again', () => {
    expect(build().status).toBe(0);
    writeFileSync(join(project, 'src', 'a.ts'), 'export const a: number = "not a number";\n');
    const broken = build('--if-stale');
    expect(broken.status).not.toBe(0);
    expect(broken.output).toContain('TS2322');
    // on stderr: stdout of `npm pack` stays the tarball's name alone
    expect(broken.stdout).toBe('');
    expect(readFileSync(builtA(), 'utf8')).toContain('not a number');
    expect(existsSync(join(project, 'dist', '.build-stamp'))).toBe(false);
    expect(build('--if-stale').output).toContain('compiling');
  });

  it('is what npm start and npm pack run before they use dist/', () => {
    expect(packageJson.scripts['prestart']).toBe('node scripts/build.mjs --if-stale');
    expect(packageJson.scripts['prepack']).toBe('node scripts/build.mjs --if-stale');
    expect(packageJson.scripts['build']).toBe('node scripts/build.mjs');
  });

  it('runs on every Node.js that package.json engines admits: directory entries without parentPath (before 20.12) too', () => {
    const minimum = /^>=(\d+)\.(\d+)$/.exec(packageJson.engines.node);
    expect(minimum, `engines.node ${packageJson.engines.node}`).not.toBeNull();
    expect(Number(minimum![1]) * 100 + Number(minimum![2])).toBeGreaterThanOrEqual(2012); // Node 20.12: the first with Dirent.parentPath
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(`Node.js ≥ ${minimum![1]}.${minimum![2]}`);
    // Node 20.1 to 20.11 name an entry's folder Dirent.path only.
    const withoutParentPath = `data:text/javascript,${encodeURIComponent(
      "import fs from 'node:fs'; import { syncBuiltinESMExports } from 'node:module'; const read = fs.readdirSync; fs.readdirSync = (...args) => { const entries = read(...args); for (const entry of entries) if (typeof entry === 'object') { entry.path ??= entry.parentPath; delete entry.parentPath; } return entries; }; syncBuiltinESMExports();",
    )}`;
    const run = spawnSync(process.execPath, ['--import', withoutParentPath, join(project, 'scripts', 'build.mjs')], { cwd: project, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(builtA(), 'utf8')).toContain('export const a = 1;');
  });
});
