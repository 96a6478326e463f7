#!/bin/sh
# install-offline.sh — run in the project folder, with npm_config_cache set to a
# writable npm cache filled by fill-npm-cache.sh.
#
# Installs the full lock (dev dependencies too: TypeScript compiles in the build)
# without the network. Used by the Nix build's configure step and the offline check.
set -eu
here=$(dirname "$0")
: "${npm_config_cache:?npm_config_cache must name the npm cache to install from}"
node "$here/lock-with-resolved.mjs" package-lock.json "$(npm config get registry)"
npm ci --offline --ignore-scripts --no-audit --no-fund --loglevel=error
