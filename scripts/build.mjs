#!/usr/bin/env node
// Compiles src/ into dist/ (tsc -p tsconfig.json) and writes dist/.build-stamp: a digest
// of everything the output is made from (every file under src/, tsconfig.json and the
// TypeScript version). tsc writes into a fresh directory that then replaces dist/ in two
// renames, so files of deleted sources do not linger and a relay or test running from
// dist/ meanwhile keeps its files. As before, output with type errors still replaces
// dist/ (tsc emits it), but gets no stamp and the build fails. Everything goes to stderr:
// stdout of `npm pack` is the tarball's name alone (`npm install -g "$(npm pack)"`).
//
//   node scripts/build.mjs              always build (npm run build)
//   node scripts/build.mjs --if-stale   build only when dist/.build-stamp differs from
//                                       the digest of the sources (npm start, npm pack)
//
// A digest of the contents, not modification times: a git checkout or a copy changes
// the times of files whose contents stayed the same.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist');
const stampFile = join(outDir, '.build-stamp');
const tscScript = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');

/** Every file under `dir`, in a stable order. */
function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name)) // Dirent.path before Node 20.12
    .sort();
}

/** Digest of the sources the build reads: src/, tsconfig.json and the compiler's version. */
function sourceDigest() {
  const hash = createHash('sha256');
  const typescriptVersion = JSON.parse(readFileSync(join(dirname(tscScript), '..', 'package.json'), 'utf8')).version;
  hash.update(`typescript ${typescriptVersion}\0`);
  for (const file of [join(root, 'tsconfig.json'), ...filesUnder(join(root, 'src'))]) {
    hash
      .update(`${relative(root, file)}\0`)
      .update(readFileSync(file))
      .update('\0');
  }
  return hash.digest('hex');
}

const digest = sourceDigest();
if (process.argv.includes('--if-stale') && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === digest) {
  console.error('build: dist/ is current with src/, not compiling');
} else {
  console.error('build: compiling src/ into dist/');
  const staging = join(root, `dist.building-${process.pid}`);
  const previous = join(root, `dist.previous-${process.pid}`);
  const tsc = spawnSync(process.execPath, [tscScript, '-p', 'tsconfig.json', '--outDir', staging], { cwd: root, stdio: ['ignore', 2, 2] });
  if (tsc.status === 0) writeFileSync(join(staging, '.build-stamp'), digest);
  if (existsSync(staging)) {
    if (existsSync(outDir)) renameSync(outDir, previous);
    renameSync(staging, outDir);
    rmSync(previous, { recursive: true, force: true });
  }
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
}
