#!/usr/bin/env node
// Creates .venv (python3 -m venv) with debugpy, the agent (editable) and pytest.
// Idempotent: a stamp file records what was installed, so repeated runs are fast.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const venv = join(root, '.venv');
const python = join(venv, 'bin', 'python');
const requirements = join(root, 'test', 'requirements-test.txt');
// Celery without its command-line helpers (see the file's comment), so installed with --no-deps.
const celeryRequirements = join(root, 'test', 'requirements-celery.txt');
const stampFile = join(venv, '.dbgrelay-stamp');
const stamp = createHash('sha256')
  .update(readFileSync(requirements))
  .update(readFileSync(celeryRequirements))
  .update(readFileSync(join(root, 'agent-py', 'pyproject.toml')))
  .digest('hex');

const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });

if (!existsSync(python)) {
  console.log('setup: creating .venv');
  run('python3', ['-m', 'venv', venv]);
}
if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) {
  console.log('setup: installing Python test dependencies and the agent into .venv');
  run(python, ['-m', 'pip', 'install', '--quiet', '--retries', '0', '-r', requirements]);
  run(python, ['-m', 'pip', 'install', '--quiet', '--retries', '0', '--no-deps', '-r', celeryRequirements]);
  run(python, ['-m', 'pip', 'install', '--quiet', '--retries', '0', '-e', join(root, 'agent-py')]);
  writeFileSync(stampFile, stamp);
}
