/**
 * The zsh completion script: the table of nodes as a case in `_db_tool_node`, and the
 * walker that follows the words typed so far down that table.
 */
import type { CompletionNode } from './completion.js';
import { header, key, single, valueOptions } from './completion-render.js';

/** The part of the script that does not depend on the programs: the walker. */
const ZSH_WALKER = `
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

`;

export function renderZsh(nodes: readonly CompletionNode[], programs: readonly string[], version: string): string {
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
${ZSH_WALKER}if [[ \${funcstack[1]} == _db_tool || \${funcstack[1]} == _database ]]; then
  _db_tool "$@"
elif (( $+functions[compdef] )); then
  compdef _db_tool ${programs.join(' ')}
fi
`;
}
