/**
 * The fish completion script: the table of nodes as a switch in `__db_tool_node`, and the
 * walker that follows the words typed so far down that table.
 */
import type { CompletionNode } from './completion.js';
import { fishQuote, header, key, valueOptions } from './completion-render.js';

/** The part of the script that does not depend on the programs: the walker. */
const FISH_WALKER = `
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

`;

export function renderFish(nodes: readonly CompletionNode[], programs: readonly string[], version: string): string {
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
${FISH_WALKER}${programs.map((program) => `complete -c ${program} -f -a '(__db_tool_complete)'`).join('\n')}
`;
}
