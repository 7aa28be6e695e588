import { allCommands, shellQuote, type CompletionCommand, type CompletionValue } from './completionTree.js';

/** The `complete` flags that complete a value of `value` (`-r`: the option takes one). */
function fishValue(value: CompletionValue): string {
  if (value.kind === 'file') return '-r -F';
  if (value.kind === 'context') return `-r -f -a ${shellQuote('(__dbgrelay_contexts)')}`;
  if (value.kind === 'choice') return `-r -f -a ${shellQuote(value.choices.join(' '))}`;
  return '-r -f';
}

/**
 * The fish completion script of the command tree: `__dbgrelay_path` finds the
 * subcommand in `commandline -opc` (skipping options and their values), and each
 * `complete` line is conditioned on that path, so `dbgrelay config use-<Tab>` offers
 * only what `dbgrelay config` takes.
 */
export function fishCompletionScript(tree: CompletionCommand): string {
  const commands = allCommands(tree);
  const name = tree.name;
  const when = (path: string): string => `-n ${shellQuote(`__dbgrelay_at ${shellQuote(path)}`)}`;
  const valueOptions = commands.flatMap((c) =>
    c.options.filter((o) => o.value !== undefined).flatMap((o) => [o.long, o.short].filter((n) => n !== undefined).map((n) => `${c.path}|${n}`)),
  );
  const lines = [
    `# fish completion for ${name}: ${name} completion fish > ~/.config/fish/completions/${name}.fish`,
    `complete -c ${name} -e`,
    `complete -c ${name} -f`,
    `set -g __dbgrelay_commands ${commands.map((c) => shellQuote(c.path)).join(' ')}`,
    `set -g __dbgrelay_value_options ${valueOptions.map(shellQuote).join(' ')}`,
    `function __dbgrelay_contexts; command ${name} config get-contexts -o name 2>/dev/null; end`,
    'function __dbgrelay_path',
    `    set -l path ${shellQuote(name)}`,
    '    set -l skip 0',
    '    for word in (commandline -opc)[2..-1]',
    '        if test $skip = 1; set skip 0; continue; end',
    "        if string match -q -- '-*' $word",
    '            contains -- "$path|$word" $__dbgrelay_value_options; and set skip 1',
    '            continue',
    '        end',
    '        contains -- "$path $word" $__dbgrelay_commands; and set path "$path $word"',
    '    end',
    '    echo $path',
    'end',
    'function __dbgrelay_at; test (__dbgrelay_path) = "$argv[1]"; end',
  ];
  for (const command of commands) {
    for (const sub of command.subcommands) lines.push(`complete -c ${name} ${when(command.path)} -a ${shellQuote(sub.name)} -d ${shellQuote(sub.description)}`);
    for (const option of command.options) {
      const flags = [option.long !== undefined ? `-l ${option.long.slice(2)}` : '', option.short !== undefined ? `-s ${option.short.slice(1)}` : ''].filter((f) => f !== '');
      const value = option.value !== undefined ? ` ${fishValue(option.value)}` : '';
      lines.push(`complete -c ${name} ${when(command.path)} ${flags.join(' ')}${value} -d ${shellQuote(option.description)}`);
    }
    if (command.argument !== undefined && command.argument.kind !== 'none') {
      const argument = command.argument.kind === 'file' ? '-F' : fishValue(command.argument).replace('-r ', '');
      lines.push(`complete -c ${name} ${when(command.path)} ${argument}`);
    }
  }
  lines.push('');
  return lines.join('\n');
}
