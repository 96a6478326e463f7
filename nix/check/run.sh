#!/usr/bin/env bash
# Offline check of the Nix packaging (SPEC §14), run by .ci/run. Needs Debian's nix-bin
# (Nix 2.8: no flakes lock, no network, no store builds), node/npm, PostgreSQL, dash and zsh.
#
#   1. every .nix file parses;
#   2. the flake, evaluated by hand against stub-pkgs.nix (the real nixpkgs lib from
#      ../shared/nixpkgs-lib, or DB_TOOL_NIXPKGS_LIB), passes eval.nix's checks, and
#      every derivation instantiates (fixed-output hashes included);
#   3. no file names a registry host;
#   4. the package's own build steps (nix/build/) run outside Nix: each lock entry's
#      `npm pack` tarball checked against its integrity, an npm cache filled from them
#      (twice: the same bytes each time), offline `npm ci` (the registry set to a dead
#      address), build, prune, install the tree once, a wrapper per program, db-tool
#      joined from them;
#   5. db-tool and postgres-init go into one Nix profile (Nix's own profile builder, in
#      a store of its own below the work folder) without a collision;
#   6. the installed postgres-init, with its absolute paths filled in, is sourced in
#      dash, bash and zsh and starts a real cluster.
#
# The flake's `checks.<system>.nix-offline` runs this inside a Nix build, where there is
# no network, no git and no /usr/bin: there DB_TOOL_NIX_CHECK_TARBALLS names a folder
# holding the lock's tarballs (the fixed-output fetches) and DB_TOOL_NIX_CHECK_PATH the
# PATH of the shells started with a clean environment.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# The nixpkgs lib sits in ../shared beside the checkout; a clone made elsewhere (say in
# /tmp) finds it beside the local repository it was cloned from.
nixpkgs_lib_beside() { # FOLDER → the lib in FOLDER/../shared, when there is one
  local lib
  lib=$(cd "$1/.." 2>/dev/null && pwd)/shared/nixpkgs-lib/lib
  [ -f "$lib/default.nix" ] && echo "$lib"
}
if [ -z "${DB_TOOL_NIXPKGS_LIB:-}" ]; then
  origin=$(git -C "$root" remote get-url origin 2>/dev/null || true)
  DB_TOOL_NIXPKGS_LIB=$(nixpkgs_lib_beside "$root" || { [ -d "$origin" ] && nixpkgs_lib_beside "$origin"; } ||
    echo "$(cd "$root/.." && pwd)/shared/nixpkgs-lib/lib")
fi
export DB_TOOL_NIXPKGS_LIB

base_path=${DB_TOOL_NIX_CHECK_PATH:-/usr/bin:/bin}
started=$SECONDS
say() { echo "nix check: $*"; }
fail() { echo "nix check: FAILED: $*" >&2; exit 1; }

command -v nix-instantiate >/dev/null || fail "nix-instantiate not found (Debian: apt-get install nix-bin)"
[ -f "$DB_TOOL_NIXPKGS_LIB/default.nix" ] ||
  fail "nixpkgs lib not found at $DB_TOOL_NIXPKGS_LIB (expected ../shared/nixpkgs-lib/lib beside the clone or the repository it was cloned from; or set DB_TOOL_NIXPKGS_LIB)"

evaluate() { # EXPRESSION → JSON on stdout; nothing is written to the store
  nix-instantiate --eval --strict --json --readonly-mode -E "$1"
}

# 1. Parse.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  nix_files=$( (git ls-files '*.nix'; git ls-files --others --exclude-standard '*.nix') | sort -u)
else
  nix_files=$(find . -name node_modules -prune -o -name '*.nix' -print | sort)
fi
for file in $nix_files; do
  nix-instantiate --parse "$file" >/dev/null || fail "$file does not parse"
done
say "$(echo "$nix_files" | wc -l) .nix files parse"

# 2. Evaluate.
result=$(evaluate 'let r = import ./nix/check/eval.nix { }; in { inherit (r) failed passed; instantiated = builtins.length r.drvPaths; }') ||
  fail "the flake does not evaluate against the stub nixpkgs (see above)"
node -e '
  const r = JSON.parse(process.argv[1]);
  for (const name of r.failed) console.error(`nix check:   failed: ${name}`);
  console.log(`nix check: flake evaluation: ${r.passed} checks passed, ${r.failed.length} failed; ${r.instantiated} derivations instantiate`);
  process.exit(r.failed.length ? 1 : 0);
' "$result" || fail "flake evaluation checks"

# 3. No registry host written anywhere (npm's built-in default is the one used).
registry_host='registry[.](npmjs|yarnpkg)|npmjs[.](org|com)'
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  names_registry() { git grep -nIiE "$registry_host" -- . ':!node_modules'; }
else
  names_registry() { grep -rnIiE --exclude-dir=node_modules "$registry_host" .; }
fi
if names_registry >&2; then
  fail "a file names a registry host (npm's built-in default registry must be the only one)"
fi

# 4. The install steps, outside Nix.
work=$(mktemp -d "${TMPDIR:-/tmp}/db-tool-nix-check-XXXXXX")
chmod 755 "$work"
projects=()
cleanup() {
  for project in "${projects[@]}"; do
    env -i PATH="$base_path" HOME="$HOME" LOCAL_DIR="$project" XDG_CACHE_HOME="$work/cache" \
      "$work/out/bin/database" cleanup >/dev/null 2>&1 || true
  done
  # The profile step's store is read-only, as stores are.
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# What Nix fetches: "NAME@VERSION INTEGRITY" per tarball derivation.
evaluate 'let r = import ./nix/check/eval.nix { }; in r.fetches' |
  node -e 'for (const f of JSON.parse(require("fs").readFileSync(0, "utf8"))) console.log(f.spec, f.integrity)' >"$work/fetches"
mkdir "$work/tarballs"
if [ -n "${DB_TOOL_NIX_CHECK_TARBALLS-}" ]; then
  cp "$DB_TOOL_NIX_CHECK_TARBALLS"/* "$work/tarballs/"
else
  # The fixed-output derivations' command, all entries in one npm call (npm ci above
  # already has them in npm's cache, so this costs little).
  # shellcheck disable=SC2046
  (cd "$work/tarballs" && npm pack --prefer-offline --ignore-scripts --no-audit --no-fund --loglevel=error \
    $(cut -d' ' -f1 "$work/fetches") >/dev/null) || fail "npm pack of the lock entries"
fi
node -e '
  const fs = require("fs"), crypto = require("crypto"), path = require("path");
  const [fetches, dir] = process.argv.slice(1);
  const wanted = new Set(fs.readFileSync(fetches, "utf8").trim().split("\n").map((line) => line.split(" ")[1]));
  const got = new Set(fs.readdirSync(dir).map((file) =>
    "sha512-" + crypto.createHash("sha512").update(fs.readFileSync(path.join(dir, file))).digest("base64")));
  const missing = [...wanted].filter((hash) => !got.has(hash));
  if (missing.length) { console.error("nix check: tarballs not matching their integrity:", missing.join(" ")); process.exit(1); }
  console.log(`nix check: ${wanted.size} npm pack tarballs match their lock integrity`);
' "$work/fetches" "$work/tarballs" || fail "npm pack output differs from the lock's integrity (the Nix fetch would fail)"
sh nix/build/fill-npm-cache.sh "$work/npm-cache" "$work"/tarballs/*
# The cache is a derivation's output: the same tarballs must give the same bytes, added
# from another folder and at another time too.
mkdir "$work/tarballs-again"
cp "$work"/tarballs/* "$work/tarballs-again/"
sh nix/build/fill-npm-cache.sh "$work/npm-cache-again" "$work"/tarballs-again/*
[ "$(nix-hash --type sha256 "$work/npm-cache")" = "$(nix-hash --type sha256 "$work/npm-cache-again")" ] ||
  fail "the npm cache differs between two fills from the same tarballs (not reproducible): diff -r $work/npm-cache $work/npm-cache-again"
say "the npm cache is reproducible: two fills, one hash ($(nix-hash --type sha256 "$work/npm-cache"))"

# The same files the Nix source filter keeps (nix/package.nix).
mkdir "$work/src"
cp -R package.json package-lock.json tsconfig.json tsconfig.build.json bin src sql "$work/src/"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$pg_bin" ] || pg_bin=$(dirname "$(command -v initdb || command -v pg_ctl)")
(
  cd "$work/src"
  # A dead registry: anything not served from the cache fails instead of downloading.
  export npm_config_registry=http://127.0.0.1:9/ npm_config_cache="$work/npm-cache"
  sh "$root/nix/build/install-offline.sh" >/dev/null
  # No /usr/bin/env in a Nix build: node_modules/.bin/* run this node, as the package
  # build's patchShebangs does.
  if [ ! -e /usr/bin/env ]; then
    find node_modules/.bin -type l -exec sed -i --follow-symlinks "1s|^#!/usr/bin/env node|#!$(command -v node)|" {} +
  fi
  npm run --silent build
  # As nix/unwrapped.nix: the tree, once.
  sh "$root/nix/build/install-tree.sh" "$work/tree" "$(command -v node)"
  # As nix/package.nix: a wrapper per program, and db-tool joining the four (symlinkJoin).
  for exe in database postgres-init postgres-cleanup migrator; do
    sh "$root/nix/build/install-wrapper.sh" "$work/program-$exe" "$work/tree" "$(command -v node)" "$pg_bin" "$exe"
    mkdir -p "$work/out"
    cp -R -s -n "$work/program-$exe/." "$work/out/"
  done
) || fail "the build steps (nix/build/) failed outside Nix"
[ -z "$(ls -A "$work/tree/bin" 2>/dev/null)" ] || fail "the JavaScript tree holds executables (they belong to the wrappers)"

node -e '
  const fs = require("fs"), path = require("path");
  const [repo, out] = process.argv.slice(1);
  const lock = JSON.parse(fs.readFileSync(path.join(repo, "package-lock.json"), "utf8"));
  const production = Object.entries(lock.packages).filter(([p, e]) => p && !e.dev).map(([p]) => p).sort();
  const lib = path.join(out, "..", "tree", "lib", "db-tool");
  const installed = [];
  const walk = (dir, prefix) => {
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      if (name.startsWith(".")) continue;
      if (name.startsWith("@")) { walk(path.join(dir, name), `${prefix}${name}/`); continue; }
      const here = `${prefix}${name}`;
      if (fs.existsSync(path.join(dir, name, "package.json"))) installed.push(`node_modules/${here}`);
      walk(path.join(dir, name, "node_modules"), `${here}/node_modules/`);
    }
  };
  walk(path.join(lib, "node_modules"), "");
  installed.sort();
  const problems = [];
  if (JSON.stringify(installed) !== JSON.stringify(production))
    problems.push(`node_modules holds ${installed.join(", ")}; the production lock entries are ${production.join(", ")}`);
  if (!fs.readFileSync(path.join(lib, "package.json")).equals(fs.readFileSync(path.join(repo, "package.json"))))
    problems.push("the installed package.json is not the original");
  for (const exe of ["database", "postgres-init", "postgres-cleanup", "migrator"])
    if (!fs.existsSync(path.join(out, "bin", exe))) problems.push(`bin/${exe} missing`);
  if (problems.length) { for (const p of problems) console.error(`nix check:   ${p}`); process.exit(1); }
  console.log(`nix check: installed tree: ${installed.length} production packages only, original package.json`);
' "$root" "$work/out" || fail "the installed tree"
if grep -rIl -e "$work/tarballs" -e "$work/npm-cache" -e "$work/src" "$work/tree" "$work"/program-* >&2; then
  fail "the installed tree refers to the build's tarballs, cache or source folder"
fi
grep -qx "__pgi_node_path='$(command -v node)'" "$work/out/bin/postgres-init" &&
  grep -qx "__pgi_path_prefix='$pg_bin'" "$work/out/bin/postgres-init" &&
  grep -qx "__pgi_launcher_path='$work/tree/lib/db-tool/bin/db-tool-launcher'" "$work/out/bin/postgres-init" ||
  fail "the installed postgres-init does not hold its absolute paths"
version=$(env -i PATH="$base_path" "$work/out/bin/database" --version) || fail "the installed database does not run"
# --env-file is ours, not Node's: a missing file is our exit 3, not Node's exit 9.
code=0
env -i PATH="$base_path" "$work/out/bin/database" --env-file "$work/no-such.env" status >/dev/null 2>&1 || code=$?
[ "$code" = 3 ] || fail "the installed database lets Node read --env-file (exit $code, not 3)"
for file in bash-completion/completions/database bash-completion/completions/postgres-init \
  zsh/site-functions/_database fish/vendor_completions.d/migrator.fish; do
  grep -q postgres-cleanup "$work/out/share/$file" || fail "completion file share/$file is missing or incomplete"
done
bash -n "$work/out/share/bash-completion/completions/database" || fail "the bash completion does not parse"
if command -v zsh >/dev/null; then zsh -n "$work/out/share/zsh/site-functions/_database" || fail "the zsh completion does not parse"; fi
say "build steps: offline npm ci, build, prune and install work, completions installed; database --version: $version"

# 5. db-tool and postgres-init in one profile, built by Nix's own profile builder (in a
#    store of its own below $work), with the names and priorities the flake gives them.
#    The same two with equal priorities must collide, or this proves nothing.
if [ -n "${NIX_BUILD_TOP-}" ]; then
  say "profile: skipped inside a Nix build (no nested builds); the priorities are checked by evaluation"
else
  store=$work/store
  profile_packages=$(evaluate 'let r = import ./nix/check/eval.nix { }; in r.profile' |
    node -e 'for (const p of JSON.parse(require("fs").readFileSync(0, "utf8"))) console.log(p.name, p.pname, p.priority)')
  expression() { # PRIORITY_OVERRIDE → a list of installable derivations
    local items="" name pname priority copy path
    while read -r name pname priority; do
      copy=$work/profile-src/$pname
      if [ ! -e "$copy" ]; then
        mkdir -p "$work/profile-src"
        if [ "$name" = db-tool ]; then cp -R -L "$work/out" "$copy"; else cp -R -L "$work/program-$name" "$copy"; fi
      fi
      path=$(nix-store --store "$store" --add "$copy" 2>/dev/null)
      items="$items (let d = { type = \"derivation\"; name = \"$pname\"; outPath = \"$path\"; outputName = \"out\"; outputs = [ \"out\" ]; out = d; all = [ d ]; system = builtins.currentSystem; meta.priority = ${1:-$priority}; }; in d)"
    done <<<"$profile_packages"
    echo "_: [ $items ]"
  }
  install_profile() { # PROFILE PRIORITY_OVERRIDE
    nix-env --store "$store" --option sandbox false --option build-users-group "" -p "$1" -i -E "$(expression "${2-}")" 2>&1 |
      grep -v "build-users-group"
  }
  install_profile "$work/profile" >"$work/profile.log" || { cat "$work/profile.log" >&2; fail "db-tool and postgres-init collide in one Nix profile"; }
  profile_bin=$store$(readlink "$work/profile-1-link")/bin
  for exe in database postgres-init postgres-cleanup migrator; do
    [ -e "$profile_bin/$exe" ] || [ -L "$profile_bin/$exe" ] || fail "the profile of db-tool and postgres-init has no bin/$exe"
  done
  case $(readlink "$profile_bin/postgres-init") in
    */*-db-tool-*/bin/postgres-init) ;;
    *) fail "in one profile, bin/postgres-init is not db-tool's: $(readlink "$profile_bin/postgres-init")" ;;
  esac
  if install_profile "$work/profile-equal" 5 >"$work/profile-equal.log"; then
    fail "with equal priorities, Nix put db-tool and postgres-init in one profile: the profile check proves nothing"
  fi
  grep -q "same priority" "$work/profile-equal.log" || { cat "$work/profile-equal.log" >&2; fail "the equal-priority profile failed for another reason than the collision"; }
  say "profile: db-tool and postgres-init install side by side (postgres-init gives way by meta.priority; without it Nix reports the collision)"
fi

# 6. Source the installed postgres-init from each shell against a real cluster.
for shell in dash bash zsh; do
  command -v "$shell" >/dev/null || fail "$shell not installed"
  project="$work/project-$shell"
  mkdir -m 755 "$project"
  projects+=("$project")
  # shellcheck disable=SC2016
  env -i PATH="$base_path" HOME="$HOME" LOCAL_DIR="$project" XDG_CACHE_HOME="$work/cache" \
    PG_SHARED_PRELOAD_LIBRARIES= LANG=C.UTF-8 "$shell" -c '
      . "$1" || { echo "sourcing postgres-init failed ($?)"; exit 1; }
      [ -n "${PGURL-}" ] || { echo "PGURL not exported"; exit 1; }
      [ "$PATH" = "$3" ] || { echo "the caller'\''s PATH changed: $PATH"; exit 1; }
      answer=$(psql "$PGURL" -XAtc "SELECT 6 * 7") || exit 1
      [ "$answer" = 42 ] || { echo "psql answered $answer"; exit 1; }
      "$2" || { echo "postgres-cleanup failed"; exit 1; }
    ' "$shell" "$work/out/bin/postgres-init" "$work/out/bin/postgres-cleanup" "$base_path" >"$work/$shell.log" 2>&1 ||
    { cat "$work/$shell.log" >&2; fail "sourcing the installed postgres-init in $shell"; }
done
say "the installed postgres-init starts a cluster when sourced in dash, bash and zsh"
say "passed in $((SECONDS - started)) s"
