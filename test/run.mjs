#!/usr/bin/env node
// The whole test suite, as `npm test` runs it on a fresh machine:
//   1. Python: .venv with debugpy, pytest and the agent (test/setupPython.mjs); the
//      Debian packages the tests start for real: sshd, ssh, nginx, haproxy, promtool
//      (test/setupSystem.mjs, apt-get only when one is missing; no service left
//      enabled at boot)
//   2. TypeScript: strict type check of src, test and bench; lint and format checks
//      of both languages (Biome, Ruff)
//   3. vitest: unit tests, a short fuzzing run (fuzz/run.mjs), then the build (dist/,
//      only when not current) and end-to-end tests with real debugpy
//   4. pytest: the agent's own suite (with its short fuzzing run), on four workers
// Every step runs even if an earlier one failed; the exit code is non-zero if any did.
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const bin = (name) => join(root, 'node_modules', '.bin', name);
const python = join(root, '.venv', 'bin', 'python');

const steps = [
  { name: 'python setup', group: 'setup', cmd: process.execPath, args: [join(root, 'test', 'setupPython.mjs')] },
  { name: 'system tools', group: 'setup', cmd: process.execPath, args: [join(root, 'test', 'setupSystem.mjs')] },
  { name: 'typecheck', group: 'ts', cmd: bin('tsc'), args: ['-p', 'tsconfig.check.json'] },
  // Lint and format check (biome.json; agent-py/pyproject.toml [tool.ruff]); `npm run format` fixes the format.
  { name: 'lint', group: 'ts', cmd: bin('biome'), args: ['check', '--error-on-warnings'] },
  { name: 'ruff', group: 'py', cmd: python, args: ['-m', 'ruff', 'check', 'agent-py'] },
  { name: 'ruff format', group: 'py', cmd: python, args: ['-m', 'ruff', 'format', '--check', 'agent-py'] },
  { name: 'vitest unit', group: 'ts', cmd: bin('vitest'), args: ['run', 'test/unit'] },
  // Coverage-guided fuzzing of the network parsers, ~10 s (docs/fuzzing.md; the long run is `npm run fuzz`).
  { name: 'fuzz (short)', group: 'ts', cmd: process.execPath, args: [join(root, 'fuzz', 'run.mjs'), '--short'] },
  // The built CLI (dist/, as `npm start` and an installed dbgrelay run it), which some
  // end-to-end tests run; compiles only when dist/ is not current with src/.
  { name: 'build', group: 'e2e', cmd: process.execPath, args: [join(root, 'scripts', 'build.mjs'), '--if-stale'] },
  // End-to-end files run one at a time: each drives real debuggees, and on a 2-core
  // machine running them side by side only adds contention.
  { name: 'vitest e2e', group: 'e2e', cmd: bin('vitest'), args: ['run', '--no-file-parallelism', 'test/e2e'] },
  // -rs: a test that cannot run here (the Python 3.14 path of --pid) says why in the summary.
  // Four workers, each test file on one of them (--dist loadfile: a file's fixtures and
  // order as in a serial run): the tests mostly wait on debugpy's and the agent's
  // timers, so on 2 cores the suite takes about 60 s instead of 195 s serially.
  { name: 'pytest agent', group: 'py', cmd: python, args: ['-m', 'pytest', '-q', '-rs', '-n', '4', '--dist', 'loadfile', 'agent-py/tests'] },
];

const results = [];
for (const step of steps) {
  if (only && step.group !== only && step.group !== 'setup') continue;
  const started = Date.now();
  console.log(`\n=== ${step.name} ===`);
  const run = spawnSync(step.cmd, step.args, { cwd: root, stdio: 'inherit' });
  const ok = run.status === 0;
  results.push({ name: step.name, ok, seconds: (Date.now() - started) / 1000 });
  if (!ok && step.group === 'setup') break;
}

console.log('\n=== summary ===');
for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name} (${r.seconds.toFixed(1)} s)`);
const failed = results.filter((r) => !r.ok).length;
console.log(`${failed === 0 ? 'all steps passed' : `${failed} step(s) failed`} (${results.length} run)`);
process.exitCode = failed === 0 ? 0 : 1;
