import type { Command, Option } from 'commander';

/**
 * What the shell should offer for a value: nothing it can guess, files, the names of the
 * client config file's contexts (asked of `dbgrelay config get-contexts -o name`), or a
 * fixed list.
 */
export type CompletionValue = { readonly kind: 'none' | 'file' | 'context' } | { readonly kind: 'choice'; readonly choices: readonly string[] };

/** One option of a command, as the completion scripts need it. */
export interface CompletionOption {
  readonly long?: string;
  readonly short?: string;
  readonly description: string;
  /** Undefined for a flag that takes no value. */
  readonly value?: CompletionValue;
}

/** One command of the tree: its path from the program (`dbgrelay config use-context`), subcommands, options and positional value. */
export interface CompletionCommand {
  readonly path: string;
  readonly name: string;
  readonly description: string;
  readonly options: readonly CompletionOption[];
  readonly subcommands: readonly CompletionCommand[];
  /** What the first positional argument takes; undefined when the command takes none. */
  readonly argument?: CompletionValue;
}

/** Commands whose argument is the name of a context. */
const contextArgumentCommands = new Set(['use-context', 'delete-context', 'set-context']);

/** The first sentence of a description, on one line (the shells show one line per candidate). */
function summary(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  const end = line.search(/\s\(|[.;:](\s|$)/);
  return (end > 0 ? line.slice(0, end) : line).slice(0, 80);
}

function optionValue(option: Option): CompletionValue | undefined {
  if (!option.required && !option.optional) return undefined;
  if (option.long === '--context') return { kind: 'context' };
  if (option.argChoices !== undefined) return { kind: 'choice', choices: option.argChoices };
  return /<(file|dir|directory|path)>|\[(file|dir|path)\]/.test(option.flags) ? { kind: 'file' } : { kind: 'none' };
}

/**
 * The completion tree of `command` and its visible subcommands (commander's own help
 * decides what is visible: hidden commands and options are not offered; `--help` is).
 */
export function completionTree(command: Command, parentPath = ''): CompletionCommand {
  const help = command.createHelp();
  const path = parentPath === '' ? command.name() : `${parentPath} ${command.name()}`;
  const options: CompletionOption[] = help.visibleOptions(command).map((option) => {
    const value = optionValue(option);
    return {
      ...(option.long !== undefined ? { long: option.long } : {}),
      ...(option.short !== undefined ? { short: option.short } : {}),
      description: summary(option.description),
      ...(value !== undefined ? { value } : {}),
    };
  });
  const subcommands = help
    .visibleCommands(command)
    .filter((sub) => sub.name() !== 'help')
    .map((sub) => completionTree(sub, path));
  const first = command.registeredArguments[0];
  let argument: CompletionValue | undefined;
  if (first !== undefined) {
    if (contextArgumentCommands.has(command.name()) && command.parent?.name() === 'config') argument = { kind: 'context' };
    else if (first.argChoices !== undefined) argument = { kind: 'choice', choices: first.argChoices };
    else argument = { kind: 'none' };
  }
  return { path, name: command.name(), description: summary(command.description()), options, subcommands, ...(argument !== undefined ? { argument } : {}) };
}

/** Every command of the tree, the root first. */
export function allCommands(tree: CompletionCommand): CompletionCommand[] {
  return [tree, ...tree.subcommands.flatMap(allCommands)];
}

/** `text` as one single-quoted shell word (bash, zsh and fish all read `'\''` as a quote). */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}
