import { allCommands, shellQuote, type CompletionCommand, type CompletionValue } from './completionTree.js';

/** The bash words that complete a value of `value` for the current word `$cur` (none when the shell cannot guess). */
function bashValue(value: CompletionValue): string {
  if (value.kind === 'file') return 'COMPREPLY=( $(compgen -f -- "$cur") ); compopt -o filenames 2>/dev/null';
  if (value.kind === 'context') return 'COMPREPLY=( $(compgen -W "$(_dbgrelay_contexts)" -- "$cur") )';
  if (value.kind === 'choice') return `COMPREPLY=( $(compgen -W ${shellQuote(value.choices.join(' '))} -- "$cur") )`;
  return 'COMPREPLY=()';
}

function optionNames(command: CompletionCommand): string[] {
  return command.options.flatMap((option) => [option.long, option.short].filter((name): name is string => name !== undefined));
}

function valueOptionNames(command: CompletionCommand): string[] {
  return optionNames({ ...command, options: command.options.filter((option) => option.value !== undefined) });
}

/**
 * The bash completion script of the command tree: `_dbgrelay` walks `COMP_WORDS` up to
 * `COMP_CWORD` to find the subcommand (skipping options and their values), then offers
 * its subcommands, its options after a `-`, or the value of the option before the
 * cursor (files, context names asked of `dbgrelay config get-contexts -o name`, choices).
 */
export function bashCompletionScript(tree: CompletionCommand): string {
  const commands = allCommands(tree);
  const name = tree.name;
  const lines = [
    `# bash completion for ${name}: add  source <(${name} completion bash)  to ~/.bashrc`,
    `_dbgrelay_contexts() { command ${name} config get-contexts -o name 2>/dev/null; }`,
    '_dbgrelay_subcommands() {',
    '  case "$1" in',
    ...commands.filter((c) => c.subcommands.length > 0).map((c) => `    ${shellQuote(c.path)}) echo ${shellQuote(c.subcommands.map((s) => s.name).join(' '))} ;;`),
    '  esac',
    '}',
    '_dbgrelay_options() {',
    '  case "$1" in',
    ...commands.map((c) => `    ${shellQuote(c.path)}) echo ${shellQuote(optionNames(c).join(' '))} ;;`),
    '  esac',
    '}',
    '_dbgrelay_value_options() {',
    '  case "$1" in',
    ...commands.map((c) => `    ${shellQuote(c.path)}) echo ${shellQuote(valueOptionNames(c).join(' '))} ;;`),
    '  esac',
    '}',
    '# Completes the value of option $2 of command $1.',
    '_dbgrelay_option_value() {',
    '  case "$1|$2" in',
    ...commands.flatMap((c) =>
      c.options
        .filter((o) => o.value !== undefined)
        .map(
          (o) =>
            `    ${[o.long, o.short]
              .filter((n) => n !== undefined)
              .map((n) => shellQuote(`${c.path}|${n}`))
              .join('|')}) ${bashValue(o.value!)} ;;`,
        ),
    ),
    '    *) return 1 ;;',
    '  esac',
    '}',
    '_dbgrelay_argument() {',
    '  case "$1" in',
    ...commands.filter((c) => c.argument !== undefined && c.argument.kind !== 'none').map((c) => `    ${shellQuote(c.path)}) ${bashValue(c.argument!)} ;;`),
    '    *) COMPREPLY=() ;;',
    '  esac',
    '}',
    '_dbgrelay() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}" path=' + shellQuote(name) + ' word i skip=',
    '  COMPREPLY=()',
    '  for (( i = 1; i < COMP_CWORD; i++ )); do',
    '    word="${COMP_WORDS[i]}"',
    '    if [[ -n $skip ]]; then skip=; continue; fi',
    '    if [[ $word == -* ]]; then',
    '      [[ " $(_dbgrelay_value_options "$path") " == *" $word "* ]] && skip=1',
    '      continue',
    '    fi',
    '    if [[ " $(_dbgrelay_subcommands "$path") " == *" $word "* ]]; then path="$path $word"; fi',
    '  done',
    '  if [[ -n $skip ]]; then _dbgrelay_option_value "$path" "${COMP_WORDS[COMP_CWORD-1]}"; return 0; fi',
    '  if [[ $cur == -* ]]; then COMPREPLY=( $(compgen -W "$(_dbgrelay_options "$path")" -- "$cur") ); return 0; fi',
    '  local subcommands; subcommands="$(_dbgrelay_subcommands "$path")"',
    '  if [[ -n $subcommands ]]; then COMPREPLY=( $(compgen -W "$subcommands" -- "$cur") ); return 0; fi',
    '  _dbgrelay_argument "$path"',
    '}',
    `complete -F _dbgrelay ${name}`,
    '',
  ];
  return lines.join('\n');
}
