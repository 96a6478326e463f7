#!/bin/sh
# fill-npm-cache.sh CACHE TARBALL...
#
# Puts npm package tarballs into the npm cache folder CACHE (what `npm --cache` takes),
# content-addressed by their sha512, so an offline `npm ci` finds each one by the
# lock's `integrity`. Used by the Nix build (nix/npm-deps.nix) and the offline check.
set -eu
cache=$1
shift
npm cache add --cache "$cache" --offline --ignore-scripts --no-audit --no-fund --loglevel=error "$@"
# npm's own bookkeeping, not cache content.
rm -rf "$cache/_logs" "$cache/_update-notifier-last-checked"
