# shellcheck shell=bash
# Setup hook replacing buildNpmPackage's npmConfigHook (which wants a fetchNpmDeps cache
# and its hash): installs the lock's dependencies offline from the cache of
# nix/npm-deps.nix. Expects `npmDeps` (the cache) and `dbToolBuildScripts` (nix/build).

dbToolNpmConfigHook() {
    echo "Executing dbToolNpmConfigHook"
    export HOME="$TMPDIR"
    # npm writes into its cache even when reading: work on a writable copy.
    cp -r "$npmDeps" "$TMPDIR/npm-cache"
    chmod -R u+w "$TMPDIR/npm-cache"
    export npm_config_cache="$TMPDIR/npm-cache"
    sh "$dbToolBuildScripts/install-offline.sh"
    # node_modules/.bin/tsc and friends start with #!/usr/bin/env node.
    patchShebangs node_modules
    echo "Finished dbToolNpmConfigHook"
}

postConfigureHooks+=(dbToolNpmConfigHook)
