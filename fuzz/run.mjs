#!/usr/bin/env node
// Coverage-guided fuzzing of the parsers that read bytes from the network (docs/fuzzing.md).
//
//   node fuzz/run.mjs --short            the short run of `npm test`: every TypeScript
//                                        target in one Jazzer.js process, seeds only, ~10 s
//   npm run fuzz                         the long run: each target for --seconds (default
//                                        300), its corpus kept in .fuzz/corpus/<target>,
//                                        then the Python targets (Hypothesis) at length
//   npm run fuzz -- --seconds=60 --targets=dapFramer,config --no-python
//
// Exit code 1 when a target found an input that breaks its contract (saved under
// .fuzz/findings/<target>/, replay it with --replay=<file>), 2 when fuzzing could not run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { prepareJazzer } from './jazzerCompat.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, '.fuzz');
const build = join(work, 'build');
const option = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const flag = (name) => process.argv.includes(`--${name}`);

const short = flag('short');
const seconds = Number(option('seconds', short ? '8' : '300'));
const replay = option('replay', undefined);
/** Longest input each target is given (its hostile seeds fit). */
const maxLength = { dapFramer: 8192, helloLine: 9400, controlChannel: 8192, upgradeRequest: 4096, authorization: 1024, relayUrl: 1024, config: 16384, all: 16384 };
/** An input taking longer than this is a finding (a parser that can hang); generous for a loaded CI machine. */
const timeoutMs = 3000;

function run(cmd, args, options = {}) {
  return spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options });
}

function fail(message) {
  console.error(`fuzz: ${message}`);
  process.exit(2);
}

// 1. Compile src and the targets (fuzz/tsconfig.json) to .fuzz/build: Jazzer.js instruments JavaScript.
const tsc = run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(root, 'fuzz', 'tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) fail('the fuzz targets do not compile');

const { targetNames: names } = await import(pathToFileURL(join(build, 'fuzz', 'targets', 'targetNames.js')).href);
const targets = short ? ['all'] : option('targets', names.join(',')).split(',');

// 2. Seed corpora from the hostile-input tables and the protocol vectors.
const seeds = join(work, 'seeds');
const seeded = run(process.execPath, [join(build, 'fuzz', 'seeds', 'seedCorpus.js'), root, seeds]);
if (seeded.status !== 0) fail(`could not write the seed corpora:\n${seeded.stderr}`);

// 3. The libFuzzer addon (see jazzerCompat.mjs).
let env;
try {
  env = prepareJazzer(root);
} catch (error) {
  fail(error.message);
}

const cli = join(root, 'node_modules', '@jazzer.js', 'core', 'dist', 'cli.js');
const stat = (text, name) => Number(new RegExp(`stat::${name}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN);
const last = (text, pattern) => [...text.matchAll(pattern)].at(-1);

/** Runs one target; returns its figures. */
function fuzzTarget(target) {
  const corpus = short ? mkdtempSync(join(tmpdir(), 'dbgrelay-fuzz-')) : join(work, 'corpus', target);
  const findings = join(work, 'findings', target);
  mkdirSync(corpus, { recursive: true });
  mkdirSync(findings, { recursive: true });
  const started = Date.now();
  const args = [
    cli,
    join(build, 'fuzz', 'targets', `${target}.fuzz.js`),
    ...(replay ? [] : [corpus, join(seeds, target)]),
    '--sync',
    '--timeout',
    String(timeoutMs),
    // Coverage of the project's code only (not zod, yaml or Node's).
    '--includes',
    '/.fuzz/build/src/',
    '--includes',
    '/.fuzz/build/fuzz/',
    '--',
    ...(replay ? [replay] : [`-max_total_time=${seconds}`]),
    `-max_len=${maxLength[target] ?? 4096}`,
    `-artifact_prefix=${findings}/`,
    '-print_final_stats=1',
    '-use_value_profile=1',
  ];
  // --no-warnings: yaml reports odd directives with process.emitWarning, once per input.
  const result = run(process.execPath, ['--no-warnings', ...args], { env: { ...process.env, ...env } });
  const output = `${result.stdout}${result.stderr}`;
  if (short) rmSync(corpus, { recursive: true, force: true });
  const coverage = last(output, /cov: (\d+) ft: (\d+) corp: (\d+)/g) ?? [];
  const artifact = /Test unit written to (\S+)/.exec(output)?.[1];
  const figures = {
    target,
    // libFuzzer's final count, or (when an exception ended the run) its last progress line.
    inputs: stat(output, 'number_of_executed_units') || Number(last(output, /^#(\d+)\s/gm)?.[1] ?? NaN),
    seconds: Math.round((Date.now() - started) / 100) / 10,
    execPerSecond: stat(output, 'average_exec_per_sec'),
    edges: Number(coverage[1] ?? NaN),
    features: Number(coverage[2] ?? NaN),
    corpus: short ? Number(coverage[3] ?? NaN) : readdirSync(corpus).length,
    newUnits: stat(output, 'new_units_added'),
    finding: result.status === 0 ? undefined : (artifact ?? `exit ${result.status ?? result.signal}`),
  };
  if (figures.finding !== undefined) {
    // The part of the output that says what broke (not the progress lines).
    console.log(
      output
        .split('\n')
        .filter((line) => !/^#\d+\s/.test(line))
        .slice(-60)
        .join('\n'),
    );
  }
  return figures;
}

const results = [];
for (const target of targets) {
  if (!(target in maxLength)) fail(`no target ${target}; targets: ${names.join(', ')}`);
  console.log(`\n=== fuzz ${target} (${replay ? `replay ${replay}` : `${seconds} s`}) ===`);
  const figures = fuzzTarget(target);
  console.log(
    `${figures.finding ? 'FINDING' : 'ok'} ${target}: ${figures.inputs} inputs in ${figures.seconds} s, ` +
      `${figures.edges || '-'} edges, ${figures.features || '-'} features, corpus ${figures.corpus}` +
      (figures.finding ? `, input saved to ${figures.finding}` : ''),
  );
  results.push(figures);
}

// 4. The Python targets, at length (their short run is part of the agent's pytest suite).
if (!short && !replay && !flag('no-python')) {
  console.log('\n=== fuzz Python targets (Hypothesis) ===');
  const examples = option('python-examples', '20000');
  const started = Date.now();
  const py = run(
    join(root, '.venv', 'bin', 'python'),
    ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', '--hypothesis-show-statistics', join(root, 'agent-py', 'tests', 'test_fuzz_parsers.py')],
    {
      env: { ...process.env, DBGRELAY_FUZZ_EXAMPLES: examples },
    },
  );
  const output = `${py.stdout}${py.stderr}`;
  // Hypothesis's statistics: "<file>::<test>:" then "- N passing, M failing, and K invalid test cases".
  const perTest = [...output.matchAll(/::(\w+):\n[\s\S]*?(\d+) passing/g)].map((m) => ({ test: m[1], inputs: Number(m[2]) }));
  if (py.status !== 0)
    console.log(
      output
        .split('\n')
        .filter((line) => !/^\s+- (Typical|during|Stopped)/.test(line))
        .slice(-80)
        .join('\n'),
    );
  for (const { test, inputs } of perTest) console.log(`ok python ${test}: ${inputs} inputs`);
  console.log(
    output
      .split('\n')
      .filter((line) => / passed| failed/.test(line))
      .join('\n'),
  );
  const inputs = perTest.reduce((sum, t) => sum + t.inputs, 0);
  results.push({
    target: 'python',
    inputs,
    tests: perTest,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    finding: py.status === 0 ? undefined : 'see the pytest output above',
  });
}

mkdirSync(work, { recursive: true });
writeFileSync(join(work, short ? 'last-short-run.json' : 'last-run.json'), JSON.stringify({ at: new Date().toISOString(), seconds, results }, null, 2) + '\n');
const found = results.filter((r) => r.finding !== undefined);
console.log(`\nfuzz: ${results.reduce((sum, r) => sum + (Number.isFinite(r.inputs) ? r.inputs : 0), 0)} inputs, ${found.length} finding(s)`);
process.exitCode = found.length === 0 ? 0 : 1;
