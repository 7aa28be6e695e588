import { Argument, type Command } from 'commander';
import { bashCompletionScript } from './bashCompletion.js';
import { completionTree } from './completionTree.js';
import { fishCompletionScript } from './fishCompletion.js';
import { zshCompletionScript } from './zshCompletion.js';

/** The shells `dbgrelay completion` writes a script for. */
export const completionShells = ['bash', 'zsh', 'fish'] as const;

/** Which shell a completion script is for. */
export type CompletionShell = (typeof completionShells)[number];

const completionHelp = [
  '',
  'Install:',
  "  bash  echo 'source <(dbgrelay completion bash)' >> ~/.bashrc",
  "  zsh   echo 'source <(dbgrelay completion zsh)' >> ~/.zshrc     (after compinit)",
  '  fish  dbgrelay completion fish > ~/.config/fish/completions/dbgrelay.fish',
  '',
  'The scripts complete subcommands, options, files and the names of the client',
  'config contexts (--context, dbgrelay config use-context), which they ask of',
  '`dbgrelay config get-contexts -o name`. Make them again after an upgrade.',
].join('\n');

/** The completion script of `program`'s command tree for `shell`. */
export function completionScript(program: Command, shell: CompletionShell): string {
  const tree = completionTree(program);
  if (shell === 'bash') return bashCompletionScript(tree);
  if (shell === 'zsh') return zshCompletionScript(tree);
  return fishCompletionScript(tree);
}

/** Registers `dbgrelay completion bash|zsh|fish`: prints the shell's completion script. */
export function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print the shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(completionShells))
    .addHelpText('after', completionHelp)
    .action((shell: CompletionShell) => {
      process.stdout.write(completionScript(program, shell));
    });
}
