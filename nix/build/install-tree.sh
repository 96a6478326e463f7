#!/bin/sh
# install-tree.sh OUT NODE RUNTIME_PATH EXECUTABLE...
#
# Run in the built project folder (dependencies installed, dist/ compiled). Keeps the
# production dependencies only, copies the package into OUT/lib/db-tool, and puts the
# EXECUTABLEs into OUT/bin:
#   - postgres-init is a plain sh file (it must be sourceable from sh, dash, bash and
#     zsh) with NODE, RUNTIME_PATH and its script filled in as absolute paths;
#   - the others are small sh wrappers: RUNTIME_PATH first on PATH, then exec NODE with
#     the arguments after `--` (as bin/database does: else Node takes our --env-file).
# Used by the Nix build's installPhase and the offline check.
set -eu
out=$1 node=$2 runtime_path=$3
shift 3

for value in "$out" "$node" "$runtime_path"; do
  case $value in
    *"'"* | *'|'*) echo "install-tree.sh: quote or | in '$value'" >&2; exit 2 ;;
  esac
done

npm prune --omit=dev --offline --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
# npm's record of the install (it names the registry URLs); npm rebuilds it when needed.
rm -f node_modules/.package-lock.json

root=$out/lib/db-tool
mkdir -p "$root" "$out/bin"
cp -R bin dist sql package.json node_modules "$root/"

# Sets `name=` (empty in the source) to VALUE, failing when the line is not there.
fill_in() { # FILE NAME VALUE
  grep -qx "$2=" "$1" || { echo "install-tree.sh: no line '$2=' in $1" >&2; exit 1; }
  sed "s|^$2=\$|$2='$3'|" "$1" >"$1.tmp" && mv "$1.tmp" "$1"
}

for exe in "$@"; do
  target=$out/bin/$exe
  if [ "$exe" = postgres-init ]; then
    cp bin/postgres-init "$target"
    fill_in "$target" __pgi_path_prefix "$runtime_path"
    fill_in "$target" __pgi_node_path "$node"
    fill_in "$target" __pgi_js_path "$root/dist/cli/postgres-init.js"
  else
    cat >"$target" <<WRAPPER
#!/bin/sh
PATH='$runtime_path'\${PATH:+":\$PATH"}
export PATH
exec '$node' '$root/dist/cli/$exe.js' -- "\$@"
WRAPPER
  fi
  chmod 755 "$target"
done
