import { spawnSync } from 'node:child_process';
import { Argument, Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { bashCompletionScript } from '../../../src/cli/bashCompletion.js';
import { allCommands, completionTree } from '../../../src/cli/completionTree.js';
import { fishCompletionScript } from '../../../src/cli/fishCompletion.js';
import { zshCompletionScript } from '../../../src/cli/zshCompletion.js';

/** A small program with every kind of value the scripts complete, a hidden option and a quote in a description. */
function program(): Command {
  const root = new Command('dbgrelay').version('1.0.0');
  root
    .command('targets')
    .description("list what's connected. More text here")
    .option('--context <name>', 'the context')
    .option('--ca <file>', 'CA file')
    .option('--limit <count>', 'at most')
    .option('--json', 'as JSON')
    .addOption(new Option('--secret-debug', 'hidden').hideHelp())
    .addOption(new Option('--format <kind>', 'format').choices(['table', 'json']));
  const config = root.command('config').description('contexts');
  config.command('use-context').argument('<name>');
  root.command('completion').addArgument(new Argument('<shell>').choices(['bash', 'zsh']));
  return root;
}

describe('completionTree', () => {
  it('takes subcommands, visible options and what each value is from the commander tree', () => {
    const tree = completionTree(program());
    expect(allCommands(tree).map((c) => c.path)).toEqual(['dbgrelay', 'dbgrelay targets', 'dbgrelay config', 'dbgrelay config use-context', 'dbgrelay completion']);
    const targets = tree.subcommands[0]!;
    expect(targets.description).toBe("list what's connected");
    expect(targets.options.map((o) => [o.long, o.value?.kind ?? 'flag'])).toEqual([
      ['--context', 'context'],
      ['--ca', 'file'],
      ['--limit', 'none'],
      ['--json', 'flag'],
      ['--format', 'choice'],
      ['--help', 'flag'],
    ]);
    expect(tree.subcommands[1]!.subcommands[0]!.argument).toEqual({ kind: 'context' });
    expect(tree.subcommands[2]!.argument).toEqual({ kind: 'choice', choices: ['bash', 'zsh'] });
    expect(tree.options.map((o) => o.long)).toEqual(['--version', '--help']);
  });

  it('makes scripts each shell parses, with a quote in a description kept inside its word', () => {
    const tree = completionTree(program());
    const scripts: Array<[string, string[], string]> = [
      ['bash', ['-n'], bashCompletionScript(tree)],
      ['zsh', ['-n'], zshCompletionScript(tree)],
      ['fish', ['--no-execute'], fishCompletionScript(tree)],
    ];
    for (const [shell, args, script] of scripts) {
      const parsed = spawnSync(shell, [...args, '-c', script], { encoding: 'utf8' });
      expect(parsed.status, `${shell}: ${parsed.stderr}`).toBe(0);
      expect(parsed.stderr).toBe(''); // fish -n -c reports a syntax error on stderr with status 0
      expect(script).not.toContain('--secret-debug');
    }
    expect(scripts[0]![2]).toContain("'dbgrelay targets|--format') COMPREPLY=( $(compgen -W 'table json' -- \"$cur\") )");
    expect(scripts[2]![2]).toContain("-d 'list what'\\''s connected'");
  });
});
