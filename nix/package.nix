# One db-tool package: thin wrappers around the JavaScript, which is built once
# (`unwrapped`, nix/unwrapped.nix) whatever the program and the PostgreSQL.
# `component` chooses what it holds:
#   - "postgres-init", "postgres-cleanup", "migrator": that one executable;
#   - "db-tool": all four (`database` and the three above), joined from the very same
#     single-program packages, so its `bin/postgres-init` is the store file of the
#     `postgres-init` package.
# The chosen PostgreSQL and every other program the tool runs go first on the
# wrappers' PATH.
#
# `postgresql` has no default on purpose: `callPackage` would fill it with
# `pkgs.postgresql` anyway. Callers pass it (nix/overlay.nix passes postgresql_17), and
# `.override { postgresql = …; }` swaps it: only the wrappers are made anew.
{ lib
, stdenvNoCC
, runCommand
, symlinkJoin
, unwrapped
, postgresql
, openssh
, less
, coreutils
, gnutar
, gzip
, util-linux
, component ? "db-tool"
}:

let
  packageJson = lib.importJSON ../package.json;
  version = packageJson.version;
  meta = import ./meta.nix { inherit lib packageJson; };

  # Every program the tool starts, besides node itself and /bin/sh: the PostgreSQL
  # programs; ssh (pull_staging); less (the pager); from coreutils cp -a, mv -T, rm -rf,
  # mkdir, stat -c, chown -h, sleep (GNU options: BSD's would not do); GNU tar
  # (--anchored --exclude) and gzip, which it runs for -z; renice and ionice, which lower
  # background deletes (Linux only; they are allowed to be missing).
  runtimePackages = [ postgresql openssh less coreutils gnutar gzip ]
    ++ lib.optionals stdenvNoCC.hostPlatform.isLinux [ util-linux ];
  runtimePath = lib.makeBinPath runtimePackages;
  nodeBinary = "${unwrapped.nodejs}/bin/node";

  all = [ "database" "postgres-init" "postgres-cleanup" "migrator" ];
  passthru = executables: { inherit unwrapped postgresql runtimePath executables; };

  # The wrapper of one executable (install-wrapper.sh writes it, in the offline check too).
  wrap = exe: runCommand "${if exe == "database" then "db-tool-database" else exe}-${version}"
    {
      inherit exe runtimePath nodeBinary;
      tree = unwrapped;
      installWrapper = ./build/install-wrapper.sh;
      passthru = passthru [ exe ];
      meta = meta // {
        mainProgram = exe;
        # Each program is also in db-tool: when both are in one profile, db-tool's copy
        # (the same store file, unless they were given different PostgreSQLs) wins
        # instead of `nix profile` reporting a collision. 10 is lib.lowPrio's value.
        priority = 10;
      };
    } ''
    sh "$installWrapper" "$out" "$tree" "$nodeBinary" "$runtimePath" "$exe"
  '';

  programs = lib.genAttrs all wrap;
in
if component == "db-tool" then
  symlinkJoin
  {
    name = "db-tool-${version}";
    paths = map (exe: programs.${exe}) all;
    passthru = passthru all // { inherit programs; };
    meta = meta // { mainProgram = "database"; };
  }
else if builtins.elem component (lib.remove "database" all) then
  programs.${component}
else
  throw "db-tool: unknown component ${component}"
