import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtCli, runDbgrelay } from '../support/processes/cliProcess.js';

/**
 * `dbgrelay completion bash|zsh|fish` loaded in the real shells, with `dbgrelay` (the
 * built CLI) on PATH and a fresh config home holding the contexts prod and staging, so
 * the context names come from `dbgrelay config get-contexts -o name` as for a user.
 */
let env: NodeJS.ProcessEnv;
const scripts: Record<string, string> = {};

beforeAll(async () => {
  const home = mkdtempSync(join(tmpdir(), 'dbgrelay-completion-'));
  const bin = join(home, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'dbgrelay'), `#!/bin/sh\nexec '${process.execPath}' '${builtCli}' "$@"\n`);
  chmodSync(join(bin, 'dbgrelay'), 0o755);
  mkdirSync(join(home, 'config', 'dbgrelay'), { recursive: true });
  writeFileSync(join(home, 'config', 'dbgrelay', 'config.yaml'), 'contexts:\n  prod: { relay: "wss://prod:443" }\n  staging: { relay: "wss://staging:443" }\n');
  env = { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), PATH: `${bin}:${process.env['PATH']}`, TERM: 'dumb' };
  await Promise.all(
    ['bash', 'zsh', 'fish'].map(async (shell) => {
      const run = runDbgrelay(['completion', shell], { XDG_CONFIG_HOME: env['XDG_CONFIG_HOME']! }, { built: true });
      let stdout = '';
      run.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      expect(await run.exited, run.output()).toBe(0);
      scripts[shell] = join(home, `dbgrelay.${shell}`);
      writeFileSync(scripts[shell], stdout);
    }),
  );
});

/** Runs `program` in `shell` with the test's environment; returns its stdout (fails the test on a non-zero exit). */
function inShell(shell: string, args: readonly string[], program: string): string {
  const result = spawnSync(shell, [...args, program], { env, encoding: 'utf8', timeout: 30_000 });
  expect(result.status, `${shell}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

describe('shell completion', () => {
  it('bash: _dbgrelay fills COMPREPLY with subcommands, options, values and context names', () => {
    const cases: Array<[string, string]> = [
      ['dbgrelay ser', 'serve'],
      ['dbgrelay config us', 'use-context'],
      ['dbgrelay config use-context ', 'prod staging'],
      ['dbgrelay targets --context st', 'staging'],
      ['dbgrelay --help con', 'config'],
      ['dbgrelay attach --relay wss://x --con', '--context'],
      ['dbgrelay completion ', 'bash zsh fish'],
      ['dbgrelay config get-contexts --output x ', ''],
    ];
    const program = [
      `source '${scripts['bash']}'`,
      'complete -p dbgrelay',
      't() { read -ra COMP_WORDS <<< "$1"; [[ $1 == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _dbgrelay; echo "${COMPREPLY[*]}"; }',
      ...cases.map(([line]) => `t '${line}'`),
    ].join('\n');
    const [registration, ...replies] = inShell('bash', ['--norc', '--noprofile', '-c'], program).split('\n');
    expect(registration).toBe('complete -F _dbgrelay dbgrelay');
    expect(replies.slice(0, cases.length)).toEqual(cases.map(([, expected]) => expected));
  });

  it('fish: complete -C offers subcommands with descriptions, options, choices and context names', () => {
    const lines = ['dbgrelay ser', 'dbgrelay config use-context ', 'dbgrelay targets --context ', 'dbgrelay completion ', 'dbgrelay targets --re'];
    const program = [`source '${scripts['fish']}'`, ...lines.map((line) => `echo '== ${line}'; complete -C '${line}'`)].join('\n');
    const output = inShell('fish', ['--no-config', '-c'], program);
    const offered = (line: string): string[] =>
      output
        .split(`== ${line}\n`)[1]!
        .split('\n== ')[0]!
        .split('\n')
        .filter((l) => l !== '');
    expect(offered('dbgrelay ser')).toEqual(['serve\tRun the relay daemon']);
    expect(offered('dbgrelay config use-context ')).toEqual(['prod', 'staging']);
    expect(offered('dbgrelay targets --context ').map((l) => l.split('\t')[0])).toEqual(['prod', 'staging']);
    expect(offered('dbgrelay completion ')).toEqual(['bash', 'fish', 'zsh']);
    expect(offered('dbgrelay targets --re')[0]).toMatch(/^--relay\trelay URL/);
  });

  it('zsh: loads under compinit (compdef registered) and completes a typed line in an interactive zsh', () => {
    const loaded = inShell('zsh', ['-f', '-c'], `autoload -Uz compinit && compinit -u -D; source '${scripts['zsh']}'; print -r -- $+functions[_dbgrelay] $_comps[dbgrelay]`);
    expect(loaded.trim()).toBe('1 _dbgrelay');
    // An interactive zsh on a pseudo-terminal (zsh/zpty): type a line and Tab, read what the line editor shows.
    // zpty -r -m waits for the completed text (bounded by inShell's timeout, so a wrong completion fails rather than hangs).
    const drive = (typed: string, completed: string): string =>
      inShell(
        'zsh',
        ['-f', '-c'],
        [
          'zmodload zsh/zpty',
          'zpty z zsh -f -i',
          `zpty -w z "PS1='> '; autoload -Uz compinit; compinit -u -D; source '${scripts['zsh']}'; print READY"`,
          "zpty -r -m z out '*READY*' || exit 2",
          `zpty -w -n z $'${typed}\\t'`,
          `zpty -r -m z out '*${completed}*' && print -r -- "$out"`,
          'zpty -d z',
        ].join('\n'),
      );
    // The line editor echoes the completed line after the prompt; one match is completed in place.
    expect(drive('dbgrelay config use-c', 'use-context ')).toContain('use-context');
    expect(drive('dbgrelay targets --context stag', 'staging ')).toContain('staging');
  });
});
