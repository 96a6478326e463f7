/**
 * Shell completions (bash, zsh, fish) generated from the commander programs, so they
 * know every command and option the code has. One script covers all four executables.
 *
 * The programs become a table of nodes, one per command path (`database diff log`):
 * its subcommands, its options (and which take a value, of what kind), and what its
 * positional arguments are. Each shell gets the table in its own syntax plus a small
 * walker that follows the words typed so far down the table.
 */
import type { Argument, Command, Option } from 'commander';
import { BadInputError } from '../base/errors.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/**
 * What a value may be: `files`, `dirs`, `none` (free text), `words=a,b` (these words),
 * `migrations=a,b` (these words and the migration names on disk).
 */
export type ValueKind = string;

export interface CompletionNode {
  program: string;
  /** Command words after the program name. */
  path: string[];
  subcommands: Array<{ name: string; description: string }>;
  options: Array<{ names: string[]; description: string; value: ValueKind | undefined }>;
  /** Kind of the positional arguments ('' when there are none). */
  positional: ValueKind;
}

/** Words some arguments take, by command path (the rest follows from names and choices). */
const ARGUMENT_WORDS: Record<string, ValueKind> = {
  'migrate up': 'words=all,latest,head',
  'migrate down': 'words=all',
  'migrate to': 'migrations=latest,head,last',
  log: 'words=list',
  'diff log': 'words=list',
};

function valueKindOfName(name: string): ValueKind {
  if (/dir/i.test(name)) return 'dirs';
  if (/path|file/i.test(name)) return 'files';
  return 'none';
}

function optionValue(option: Option): ValueKind | undefined {
  if (!option.required && !option.optional) return undefined;
  if (option.argChoices) return `words=${option.argChoices.join(',')}`;
  return valueKindOfName(/<([^>]+)>|\[([^\]]+)\]/.exec(option.flags)?.slice(1).find(Boolean) ?? '');
}

function argumentValue(argument: Argument, path: readonly string[], siblings: readonly string[]): ValueKind {
  const words = path.join(' ');
  for (const [suffix, kind] of Object.entries(ARGUMENT_WORDS)) if (words === suffix || words.endsWith(` ${suffix}`)) return kind;
  if (argument.argChoices) return `words=${argument.argChoices.join(',')}`;
  if (argument.name() === 'command') return `words=${siblings.join(',')}`;
  return valueKindOfName(argument.name());
}

/** One line of a description: its first clause, short enough for a completion menu. */
function shortDescription(text: string): string {
  const line = text.split('\n')[0]?.trim() ?? '';
  return line.length <= 72 ? line : `${line.slice(0, 71).trimEnd()}…`;
}

function isHelpCommand(command: Command): boolean {
  return command.name() === 'help';
}

/**
 * The nodes of a program. `graft` puts another program's tree under a command (the
 * `database migrator ARGS…` passthrough gets the migrator's commands and options).
 */
export function completionNodes(program: Command, graft: Record<string, Command> = {}): CompletionNode[] {
  const nodes: CompletionNode[] = [];
  const visit = (command: Command, path: string[], siblings: string[]): void => {
    const source = graft[path.join(' ')] ?? command;
    const help = source.createHelp();
    const children = help.visibleCommands(source);
    const names = children.filter((child) => !isHelpCommand(child)).map((child) => child.name());
    const args = source.registeredArguments;
    nodes.push({
      program: program.name(),
      path,
      subcommands: children.map((child) => ({ name: child.name(), description: shortDescription(child.summary() || child.description()) })),
      options: help.visibleOptions(source).map((option) => ({
        names: [option.short, option.long].filter((name): name is string => Boolean(name)),
        description: shortDescription(option.description),
        value: optionValue(option),
      })),
      positional: args[0] ? argumentValue(args[0], path, siblings) : '',
    });
    for (const child of children) visit(child, [...path, child.name()], names);
  };
  visit(program, [], []);
  return nodes;
}

// ---- rendering --------------------------------------------------------------------------

function single(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function fishQuote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function key(node: CompletionNode): string {
  return `${node.program}:${node.path.join(' ')}`;
}

/**
 * `NAME:KIND` of the options taking a value at this node: its own and its ancestors'
 * (a program's options may follow its subcommands; the walker must skip their values).
 */
function valueOptions(nodes: readonly CompletionNode[], node: CompletionNode): string[] {
  const ancestors = nodes.filter(
    (candidate) => candidate.program === node.program && candidate.path.every((word, i) => node.path[i] === word) && candidate.path.length <= node.path.length,
  );
  const entries = ancestors
    .sort((a, b) => b.path.length - a.path.length)
    .flatMap((ancestor) => ancestor.options.filter((option) => option.value !== undefined))
    .flatMap((option) => option.names.map((name) => `${name}:${option.value}`));
  return [...new Set(entries)];
}

function header(shell: Shell, programs: readonly string[], version: string): string {
  return [
    `# ${shell} completion for ${programs.join(', ')} (db-tool ${version}).`,
    `# Generated from the programs by \`database completion ${shell}\`; see the README, "Shell completions".`,
  ].join('\n');
}

function renderBash(nodes: readonly CompletionNode[], programs: readonly string[], version: string): string {
  const cases = nodes.map((node) => {
    const fields = [
      `_db_subs=${single(node.subcommands.map((sub) => sub.name).join(' '))}`,
      `_db_opts=${single(node.options.flatMap((option) => option.names).join(' '))}`,
      `_db_vopts=${single(valueOptions(nodes, node).join(' '))}`,
      `_db_args=${single(node.positional)}`,
    ];
    return `    ${single(key(node))}) ${fields.join(' ')} ;;`;
  });
  return `${header('bash', programs, version)}

# Sets _db_subs, _db_opts, _db_vopts (NAME:KIND of options taking a value), _db_args.
_db_tool_node() {
  _db_subs='' _db_opts='' _db_vopts='' _db_args=''
  case $1 in
${cases.join('\n')}
  esac
}

# True when $1 is an option taking a value here; sets _db_kind.
_db_tool_kind() {
  local entry
  _db_kind=''
  for entry in $_db_vopts; do
    if [ "\${entry%%:*}" = "$1" ]; then _db_kind=\${entry#*:}; return 0; fi
  done
  return 1
}

# Words for a value of kind $1 ($2: the program, $3: what is typed).
_db_tool_values() {
  local words
  case $1 in
    files) compgen -f -- "$3" ;;
    dirs) compgen -d -- "$3" ;;
    words=*) words=\${1#words=}; compgen -W "\${words//,/ }" -- "$3" ;;
    migrations=*)
      words=\${1#migrations=}
      if [ "$2" = database ]; then words="\${words//,/ } $(command database migrator list --raw 2>/dev/null)"
      else words="\${words//,/ } $(command "$2" list --raw 2>/dev/null)"; fi
      compgen -W "$words" -- "$3" ;;
  esac
}

_db_tool() {
  local prog=\${COMP_WORDS[0]##*/} path='' word i=1 cur=\${COMP_WORDS[COMP_CWORD]} prev
  local _db_subs _db_opts _db_vopts _db_args _db_kind
  while [ "$i" -lt "$COMP_CWORD" ]; do
    word=\${COMP_WORDS[i]}
    _db_tool_node "$prog:$path"
    # bash splits --option=value into three words
    if [ "\${COMP_WORDS[i+1]}" = = ]; then i=$((i + 3)); continue; fi
    case $word in
      -*) if _db_tool_kind "$word"; then i=$((i + 2)); else i=$((i + 1)); fi; continue ;;
    esac
    case " $_db_subs " in *" $word "*) path=\${path:+$path }$word ;; esac
    i=$((i + 1))
  done
  _db_tool_node "$prog:$path"
  prev=\${COMP_WORDS[COMP_CWORD-1]}
  if [ "$cur" = = ]; then cur=''; fi
  if [ "$prev" = = ] && [ "$COMP_CWORD" -gt 2 ]; then prev=\${COMP_WORDS[COMP_CWORD-2]}; fi
  if [ "$COMP_CWORD" -gt 1 ] && _db_tool_kind "$prev"; then
    case $_db_kind in files|dirs) compopt -o filenames 2>/dev/null ;; esac
    mapfile -t COMPREPLY < <(_db_tool_values "$_db_kind" "$prog" "$cur")
    return 0
  fi
  case $cur in
    -*) mapfile -t COMPREPLY < <(compgen -W "$_db_opts" -- "$cur") ;;
    *)
      case $_db_args in files|dirs) compopt -o filenames 2>/dev/null ;; esac
      mapfile -t COMPREPLY < <(compgen -W "$_db_subs" -- "$cur"; _db_tool_values "$_db_args" "$prog" "$cur") ;;
  esac
  return 0
}

complete -F _db_tool ${programs.join(' ')}
`;
}

function renderZsh(nodes: readonly CompletionNode[], programs: readonly string[], version: string): string {
  const described = (items: Array<{ name: string; description: string }>): string =>
    items.map((item) => single(`${item.name.replace(/:/g, '\\:')}:${item.description}`)).join(' ');
  const cases = nodes.map((node) => {
    const options = node.options.flatMap((option) => option.names.map((name) => ({ name, description: option.description })));
    return [
      `    ${single(key(node))})`,
      `      _db_subs=(${described(node.subcommands)})`,
      `      _db_opts=(${described(options)})`,
      `      _db_vopts=(${valueOptions(nodes, node).map(single).join(' ')})`,
      `      _db_args=${single(node.positional)} ;;`,
    ].join('\n');
  });
  return `#compdef ${programs.join(' ')}
${header('zsh', programs, version)}
# Put it in a folder of $fpath as _database, or source it after compinit.

# Sets _db_subs and _db_opts (NAME:DESCRIPTION), _db_vopts (NAME:KIND), _db_args.
_db_tool_node() {
  _db_subs=() _db_opts=() _db_vopts=() _db_args=''
  case $1 in
${cases.join('\n')}
  esac
}

# True when $1 is an option taking a value here; sets _db_kind.
_db_tool_kind() {
  local entry
  _db_kind=''
  for entry in $_db_vopts; do
    if [[ \${entry%%:*} == $1 ]]; then _db_kind=\${entry#*:}; return 0; fi
  done
  return 1
}

# From $words and $CURRENT: the node ($_db_path) and what is wanted there ($_db_want:
# value, options or commands; for a value $_db_kind says which).
_db_tool_state() {
  local prog=\${words[1]:t} word i=2
  _db_path=''
  while (( i < CURRENT )); do
    word=\${words[i]}
    _db_tool_node "$prog:$_db_path"
    case $word in
      -*=*) (( i += 1 )); continue ;;
      -*) if _db_tool_kind "$word"; then (( i += 2 )); else (( i += 1 )); fi; continue ;;
    esac
    if (( \${_db_subs[(I)\${word}:*]} )); then _db_path=\${_db_path:+$_db_path }$word; fi
    (( i += 1 ))
  done
  _db_tool_node "$prog:$_db_path"
  if [[ \${words[CURRENT]} == -*=* ]] && _db_tool_kind "\${words[CURRENT]%%=*}"; then
    _db_want=value-after-equals
  elif (( CURRENT > 2 )) && _db_tool_kind "\${words[CURRENT-1]}"; then
    _db_want=value
  elif [[ \${words[CURRENT]} == -* ]]; then
    _db_want=options
  else
    _db_want=commands
    _db_kind=$_db_args
  fi
}

_db_tool_values() {
  local -a migrations
  case $1 in
    files) _files ;;
    dirs) _files -/ ;;
    words=*) compadd -- \${(s:,:)1#words=} ;;
    migrations=*)
      if [[ \${words[1]:t} == database ]]; then migrations=(\${(f)"$(command database migrator list --raw 2>/dev/null)"})
      else migrations=(\${(f)"$(command \${words[1]} list --raw 2>/dev/null)"}); fi
      compadd -- \${(s:,:)1#migrations=} $migrations ;;
  esac
}

_db_tool() {
  local _db_path _db_want _db_kind _db_args
  local -a _db_subs _db_opts _db_vopts
  _db_tool_state
  case $_db_want in
    value-after-equals) compset -P '*='; _db_tool_values "$_db_kind" ;;
    value) _db_tool_values "$_db_kind" ;;
    options) _describe -t options option _db_opts ;;
    commands)
      (( \${#_db_subs} )) && _describe -t commands command _db_subs
      _db_tool_values "$_db_kind" ;;
  esac
}

if [[ \${funcstack[1]} == _db_tool || \${funcstack[1]} == _database ]]; then
  _db_tool "$@"
elif (( $+functions[compdef] )); then
  compdef _db_tool ${programs.join(' ')}
fi
`;
}

function renderFish(nodes: readonly CompletionNode[], programs: readonly string[], version: string): string {
  const described = (items: Array<{ name: string; description: string }>): string =>
    items.map((item) => fishQuote(`${item.name}\t${item.description}`)).join(' ');
  const cases = nodes.map((node) => {
    const options = node.options.flatMap((option) => option.names.map((name) => ({ name, description: option.description })));
    return [
      `        case ${fishQuote(key(node))}`,
      `            set -g __db_subnames ${node.subcommands.map((sub) => fishQuote(sub.name)).join(' ')}`,
      `            set -g __db_subs ${described(node.subcommands)}`,
      `            set -g __db_opts ${described(options)}`,
      `            set -g __db_vopts ${valueOptions(nodes, node).map(fishQuote).join(' ')}`,
      `            set -g __db_args ${fishQuote(node.positional)}`,
    ].join('\n');
  });
  return `${header('fish', programs, version)}
# Put it in ~/.config/fish/completions/ (as database.fish, migrator.fish, …) or source it.

function __db_tool_node --argument-names key
    set -g __db_subnames
    set -g __db_subs
    set -g __db_opts
    set -g __db_vopts
    set -g __db_args ''
    switch $key
${cases.join('\n')}
    end
end

# True when $argv[1] is an option taking a value here; sets __db_kind.
function __db_tool_kind
    for entry in $__db_vopts
        if test (string split -m 1 ':' -- $entry)[1] = "$argv[1]"
            set -g __db_kind (string split -m 1 ':' -- $entry)[2]
            return 0
        end
    end
    return 1
end

function __db_tool_values --argument-names kind prog cur
    switch $kind
        case files
            __fish_complete_path $cur
        case dirs
            __fish_complete_directories $cur
        case 'words=*'
            string split ',' -- (string replace 'words=' '' -- $kind)
        case 'migrations=*'
            string split ',' -- (string replace 'migrations=' '' -- $kind)
            if test "$prog" = database
                command database migrator list --raw 2>/dev/null
            else
                command $prog list --raw 2>/dev/null
            end
    end
end

function __db_tool_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l prog (string replace -r '.*/' '' -- $tokens[1])
    set -l path ''
    set -l i 2
    while test $i -le (count $tokens)
        set -l word $tokens[$i]
        __db_tool_node "$prog:$path"
        if string match -q -- '-*=*' $word
            set i (math $i + 1)
            continue
        else if string match -q -- '-*' $word
            if __db_tool_kind $word
                set i (math $i + 2)
            else
                set i (math $i + 1)
            end
            continue
        end
        if contains -- $word $__db_subnames
            set path (string trim -- "$path $word")
        end
        set i (math $i + 1)
    end
    __db_tool_node "$prog:$path"
    if string match -q -- '-*=*' $cur
        set -l option (string split -m 1 '=' -- $cur)
        if __db_tool_kind $option[1]
            for value in (__db_tool_values $__db_kind $prog $option[2])
                echo "$option[1]=$value"
            end
        end
        return
    end
    if test (count $tokens) -gt 1; and __db_tool_kind $tokens[-1]
        __db_tool_values $__db_kind $prog $cur
        return
    end
    if string match -q -- '-*' $cur
        printf '%s\\n' $__db_opts
    else
        printf '%s\\n' $__db_subs
        __db_tool_values $__db_args $prog $cur
    end
end

${programs.map((program) => `complete -c ${program} -f -a '(__db_tool_complete)'`).join('\n')}
`;
}

export function renderCompletion(shell: string, nodes: readonly CompletionNode[], version: string): string {
  const programs = [...new Set(nodes.map((node) => node.program))];
  switch (shell) {
    case 'bash':
      return renderBash(nodes, programs, version);
    case 'zsh':
      return renderZsh(nodes, programs, version);
    case 'fish':
      return renderFish(nodes, programs, version);
    default:
      throw new BadInputError(`no completion for shell '${shell}': choose ${SHELLS.join(', ')}`);
  }
}
