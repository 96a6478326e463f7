/**
 * The bash completion script: the table of nodes as a case in `_db_tool_node`, and the
 * walker that follows the words typed so far down that table.
 */
import type { CompletionNode } from './completion.js';
import { header, key, single, valueOptions } from './completion-render.js';

/** The part of the script that does not depend on the programs: the walker. */
const BASH_WALKER = `
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

`;

export function renderBash(nodes: readonly CompletionNode[], programs: readonly string[], version: string): string {
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
${BASH_WALKER}complete -F _db_tool ${programs.join(' ')}
`;
}
