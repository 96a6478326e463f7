#!/bin/sh
# install-wrapper.sh OUT TREE NODE RUNTIME_PATH EXECUTABLE
#
# Makes OUT hold one executable of the installed tree TREE (made by install-tree.sh):
#   - postgres-init is a plain sh file (it must be sourceable from sh, dash, bash and
#     zsh) with NODE, RUNTIME_PATH and the launcher filled in as absolute paths;
#   - the others are two-line sh wrappers: RUNTIME_PATH first on PATH, NODE as
#     DB_TOOL_NODE, then TREE's one launcher (bin/db-tool-launcher: it passes the
#     arguments and NODE_EXTRA_CA_CERTS to Node as every db-tool program needs);
#   - its shell completions, as links to TREE's files: every package that holds an
#     executable links the very same zsh `_database`, so packages put side by side in
#     one environment share that file instead of holding two versions of it.
# Used by the Nix wrappers (nix/package.nix) and the offline check.
set -eu
out=$1 tree=$2 node=$3 runtime_path=$4 exe=$5

for value in "$tree" "$node" "$runtime_path"; do
  case $value in
    *"'"* | *'|'*) echo "install-wrapper.sh: quote or | in '$value'" >&2; exit 2 ;;
  esac
done
root=$tree/lib/db-tool
launcher=$root/bin/db-tool-launcher
[ -f "$root/dist/cli/$exe.js" ] || { echo "install-wrapper.sh: no $root/dist/cli/$exe.js" >&2; exit 2; }
[ -x "$launcher" ] || { echo "install-wrapper.sh: no $launcher" >&2; exit 2; }

# Sets `name=` (empty in the source) to VALUE, failing when the line is not there.
fill_in() { # FILE NAME VALUE
  grep -qx "$2=" "$1" || { echo "install-wrapper.sh: no line '$2=' in $1" >&2; exit 1; }
  sed "s|^$2=\$|$2='$3'|" "$1" >"$1.tmp" && mv "$1.tmp" "$1"
}

mkdir -p "$out/bin"
target=$out/bin/$exe
if [ "$exe" = postgres-init ]; then
  cp "$root/bin/postgres-init" "$target"
  fill_in "$target" __pgi_path_prefix "$runtime_path"
  fill_in "$target" __pgi_node_path "$node"
  fill_in "$target" __pgi_launcher_path "$launcher"
else
  cat >"$target" <<WRAPPER
#!/bin/sh
PATH='$runtime_path'\${PATH:+":\$PATH"} DB_TOOL_NODE='$node' \\
  exec '$launcher' $exe "\$@"
WRAPPER
fi
chmod 755 "$target"

share=$tree/share
mkdir -p "$out/share/bash-completion/completions" "$out/share/zsh/site-functions" "$out/share/fish/vendor_completions.d"
ln -s "$share/bash-completion/completions/$exe" "$out/share/bash-completion/completions/$exe"
ln -s "$share/fish/vendor_completions.d/$exe.fish" "$out/share/fish/vendor_completions.d/$exe.fish"
ln -s "$share/zsh/site-functions/_database" "$out/share/zsh/site-functions/_database"
