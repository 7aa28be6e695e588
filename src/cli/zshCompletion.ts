import { allCommands, shellQuote, type CompletionCommand, type CompletionOption, type CompletionValue } from './completionTree.js';

/** The zsh code that completes a value of `value`. */
function zshValue(value: CompletionValue): string {
  if (value.kind === 'file') return '_files';
  if (value.kind === 'context') return 'compadd -- ${(f)"$(_dbgrelay_contexts)"}';
  if (value.kind === 'choice') return `compadd -- ${value.choices.map(shellQuote).join(' ')}`;
  return '_message value';
}

/** `name:description` entries for `_describe` (a colon in the name escaped). */
function described(entries: ReadonlyArray<readonly [string, string]>): string {
  return shellQuote(entries.map(([name, description]) => `${name.replaceAll(':', '\\:')}:${description}`).join('\n'));
}

function names(option: CompletionOption): string[] {
  return [option.long, option.short].filter((name): name is string => name !== undefined);
}

/**
 * The zsh completion script of the command tree (`#compdef`: it works from a file
 * named `_dbgrelay` in `$fpath`, or sourced after `compinit`): the same walk as the
 * bash script over `words` and `CURRENT`, offering subcommands and options with their
 * descriptions (`_describe`), files (`_files`), context names and choices.
 */
export function zshCompletionScript(tree: CompletionCommand): string {
  const commands = allCommands(tree);
  const name = tree.name;
  const lines = [
    `#compdef ${name}`,
    `# zsh completion for ${name}: add  source <(${name} completion zsh)  to ~/.zshrc after compinit,`,
    `# or save it as _${name} in a directory of $fpath.`,
    `compdef _dbgrelay ${name}`,
    `_dbgrelay_contexts() { command ${name} config get-contexts -o name 2>/dev/null }`,
    '_dbgrelay_subcommands() {',
    '  case "$1" in',
    ...commands.filter((c) => c.subcommands.length > 0).map((c) => `    ${shellQuote(c.path)}) print -r -- ${described(c.subcommands.map((s) => [s.name, s.description]))} ;;`),
    '  esac',
    '}',
    '_dbgrelay_options() {',
    '  case "$1" in',
    ...commands.map((c) => `    ${shellQuote(c.path)}) print -r -- ${described(c.options.flatMap((o) => names(o).map((n) => [n, o.description] as const)))} ;;`),
    '  esac',
    '}',
    '_dbgrelay_value_options() {',
    '  case "$1" in',
    ...commands.map(
      (c) =>
        `    ${shellQuote(c.path)}) print -r -- ${shellQuote(
          c.options
            .filter((o) => o.value !== undefined)
            .flatMap(names)
            .join(' '),
        )} ;;`,
    ),
    '  esac',
    '}',
    '_dbgrelay_option_value() {',
    '  case "$1|$2" in',
    ...commands.flatMap((c) =>
      c.options
        .filter((o) => o.value !== undefined)
        .map(
          (o) =>
            `    ${names(o)
              .map((n) => shellQuote(`${c.path}|${n}`))
              .join('|')}) ${zshValue(o.value!)} ;;`,
        ),
    ),
    '  esac',
    '}',
    '_dbgrelay_argument() {',
    '  case "$1" in',
    ...commands.filter((c) => c.argument !== undefined && c.argument.kind !== 'none').map((c) => `    ${shellQuote(c.path)}) ${zshValue(c.argument!)} ;;`),
    '  esac',
    '}',
    '_dbgrelay() {',
    `  local cmdpath=${shellQuote(name)} word skip= i`,
    '  local -a entries',
    '  for (( i = 2; i < CURRENT; i++ )); do',
    '    word=${words[i]}',
    '    if [[ -n $skip ]]; then skip=; continue; fi',
    '    if [[ $word == -* ]]; then',
    '      [[ " $(_dbgrelay_value_options $cmdpath) " == *" $word "* ]] && skip=1',
    '      continue',
    '    fi',
    '    if [[ $\'\\n\'"$(_dbgrelay_subcommands $cmdpath)" == *$\'\\n\'"$word:"* ]]; then cmdpath="$cmdpath $word"; fi',
    '  done',
    '  if [[ -n $skip ]]; then _dbgrelay_option_value "$cmdpath" "${words[CURRENT-1]}"; return; fi',
    '  if [[ ${words[CURRENT]} == -* ]]; then',
    '    entries=("${(@f)$(_dbgrelay_options $cmdpath)}")',
    '    _describe -t options option entries',
    '    return',
    '  fi',
    '  entries=("${(@f)$(_dbgrelay_subcommands $cmdpath)}")',
    '  if [[ -n ${entries[1]} ]]; then _describe -t commands command entries; return; fi',
    '  _dbgrelay_argument "$cmdpath"',
    '}',
    '# Run the completion only when called as the completion function, not when sourced.',
    'if [[ "${funcstack[1]}" == _dbgrelay ]]; then _dbgrelay "$@"; fi',
    '',
  ];
  return lines.join('\n');
}
