# `checks.<system>.nix-offline`: nix/check/run.sh (the offline check CI runs) inside a
# Nix build, so `nix flake check` runs it too. What CI finds on Debian comes from pkgs
# here: the Nix to evaluate with (a private store in the build folder), the nixpkgs lib
# of the flake's own input, the lock's tarballs (the fixed-output fetches: no network in
# a build), PostgreSQL 17, dash and zsh.
{ pkgs, nixpkgsLib }:

let
  inherit (pkgs) lib;
  unwrapped = pkgs.hectic.db-tool.unwrapped;
  # The files run.sh reads: the build's source and the Nix files.
  src = lib.fileset.toSource {
    root = ../..;
    fileset = lib.fileset.unions [
      ../../flake.nix
      ../../nix
      ../../package.json
      ../../package-lock.json
      ../../tsconfig.json
      ../../tsconfig.build.json
      ../../bin
      ../../src
      ../../sql
    ];
  };
  shellPath = lib.makeBinPath [ pkgs.coreutils pkgs.dash pkgs.bash pkgs.zsh pkgs.postgresql_17 ];
in
pkgs.runCommand "db-tool-nix-offline-check"
{
  nativeBuildInputs = [ pkgs.nix pkgs.nodejs_22 pkgs.postgresql_17 pkgs.dash pkgs.zsh pkgs.gnused pkgs.findutils ];
  checkedSource = src;
  tarballs = lib.attrValues unwrapped.npmTarballs;
  DB_TOOL_NIXPKGS_LIB = nixpkgsLib;
  DB_TOOL_NIX_CHECK_PATH = shellPath;
} ''
  cp -R "$checkedSource" source
  chmod -R u+w source
  export HOME="$TMPDIR"
  # A private Nix store and state for nix-instantiate (as nixpkgs' lib tests do).
  export NIX_STORE_DIR="$TMPDIR/nix/store" NIX_STATE_DIR="$TMPDIR/nix/var" NIX_LOG_DIR="$TMPDIR/nix/log" \
    NIX_CONF_DIR="$TMPDIR/nix/etc" NIX_LOCALSTATE_DIR="$TMPDIR/nix/var"
  nix-store --init
  mkdir tarballs
  for tarball in $tarballs; do ln -s "$tarball" "tarballs/''${tarball##*/}"; done
  DB_TOOL_NIX_CHECK_TARBALLS="$PWD/tarballs" bash source/nix/check/run.sh
  touch "$out"
''
