#!/bin/sh
# fill-npm-cache.sh CACHE TARBALL...
#
# Puts npm package tarballs into the npm cache folder CACHE (what `npm --cache` takes),
# content-addressed by their sha512, so an offline `npm ci` finds each one by the
# lock's `integrity`. Used by the Nix build (nix/npm-deps.nix) and the offline check.
#
# Only the content (`_cacache/content-v2`: each file named by its own hash, its bytes
# the tarball's) is kept, so the same tarballs always give the same cache. npm's index
# (`_cacache/index-v5`) records when and from which path each tarball was added; npm
# does not need it here, as it reads a tarball whose integrity it knows by that digest.
set -eu
cache=$1
shift
npm cache add --cache "$cache" --offline --ignore-scripts --no-audit --no-fund --loglevel=error "$@"
rm -rf "$cache/_cacache/index-v5" "$cache/_cacache/tmp" "$cache/_logs" "$cache/_update-notifier-last-checked"
# Nothing else may be left: whatever npm adds next must be looked at before it ships.
leftover=$(find "$cache" -mindepth 1 ! -path "$cache/_cacache" ! -path "$cache/_cacache/content-v2" ! -path "$cache/_cacache/content-v2/*")
[ -z "$leftover" ] || { echo "fill-npm-cache.sh: unexpected files in the npm cache: $leftover" >&2; exit 1; }
