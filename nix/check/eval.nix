# The flake evaluated by hand against the stub package set (stub-pkgs.nix): Nix 2.8 and
# no network cannot lock or fetch the real nixpkgs. Evaluates to the list of failed
# checks (empty = all good); run.sh prints them. Every derivation's drvPath is forced,
# so fixed-output hashes and all inputs are validated too.
{ system ? "x86_64-linux" }:

let
  root = ../..;
  stubFile = ./stub-pkgs.nix;
  stub = import stubFile { inherit system; };
  inherit (stub) lib;

  nixpkgs = { outPath = stubFile; inherit lib; };
  flake = import (root + "/flake.nix");
  self = flake.outputs { inherit self nixpkgs; };

  pkgs = import stubFile { inherit system; overlays = [ self.overlays.default ]; };
  packages = self.packages.${system};
  names = [ "db-tool" "postgres-init" "postgres-cleanup" "migrator" ];
  shell = self.devShells.${system}.default;

  # Store paths carry string context, which builtins.match refuses.
  plain = builtins.unsafeDiscardStringContext;
  has = infix: content: lib.hasInfix (plain infix) (plain content);
  binOf = drv: "${drv}/bin";
  # Everything a derivation was given, as one string (derivations become store paths).
  envText = drv: builtins.toJSON (removeAttrs drv.drvAttrs [ "passthru" ]);

  pg16 = pkgs.postgresql_16;
  pg17 = pkgs.postgresql_17;
  pg18 = pkgs.postgresql_18;
  withCron = pkgs.postgresql_17.withPackages (p: [ p.pg_cron ]);

  lock = lib.importJSON (root + "/package-lock.json");
  lockName = path: entry: entry.name or (lib.last (lib.splitString "node_modules/" path));
  productionEntries = lib.filterAttrs (path: entry: path != "" && !(entry.dev or false)) lock.packages;
  allEntries = lib.filterAttrs (path: _: path != "") lock.packages;
  tarballs = packages.db-tool.npmTarballs;
  cacheInputs = map toString packages.db-tool.npmDeps.tarballs;
  fetchedRight = path: entry:
    tarballs ? ${path}
    && tarballs.${path}.outputHash == entry.integrity
    && tarballs.${path}.outputHashMode == "flat"
    && tarballs.${path}.npmPackSpec == "${lockName path entry}@${entry.version}"
    && has "npm pack \"$npmPackSpec\"" tarballs.${path}.buildCommand
    && builtins.elem tarballs.${path}.outPath cacheInputs;

  perPackage = name:
    let
      drv = packages.${name};
      on16 = drv.override { postgresql = pg16; };
      onCron = drv.override { postgresql = withCron; };
    in
    {
      "${name}: evaluates to a derivation" = lib.isDerivation drv && lib.hasPrefix "/nix/store/" drv.drvPath;
      "${name}: overlay gives the same derivation as pkgs.hectic.${name}" = pkgs.hectic.${name}.drvPath == drv.drvPath;
      "${name}: default PostgreSQL is 17" = drv.postgresql.version == pg17.version && has (binOf pg17) drv.runtimePath;
      "${name}: pkgs.postgresql (18) is nowhere in it" = !(has pg18.outPath (envText drv));
      "${name}: nodejs_22" = has "${pkgs.nodejs_22}/bin/node" drv.nodeBinary && !(has pkgs.nodejs_24.outPath (envText drv));
      "${name}: .override postgresql_16 changes the derivation" = on16.drvPath != drv.drvPath;
      "${name}: .override postgresql_16 is on PATH instead of 17" =
        has (binOf pg16) on16.runtimePath && !(has (binOf pg17) on16.runtimePath) && on16.postgresql.version == pg16.version;
      "${name}: .override with pg_cron's withPackages" = has (binOf withCron) onCron.runtimePath && onCron.drvPath != drv.drvPath;
      "${name}: openssh and less on PATH" = has (binOf pkgs.openssh) drv.runtimePath && has (binOf pkgs.less) drv.runtimePath;
      "${name}: built from the lock's own cache, no npmDepsHash" = drv.npmDeps.drvPath == packages.db-tool.npmDeps.drvPath && !(drv ? npmDepsHash);
    };

  executables = {
    "db-tool" = [ "database" "postgres-init" "postgres-cleanup" "migrator" ];
    "postgres-init" = [ "postgres-init" ];
    "postgres-cleanup" = [ "postgres-cleanup" ];
    "migrator" = [ "migrator" ];
  };

  sqlFile = name: builtins.readFile (root + "/sql/${name}");
  versionString = lib.removeSuffix "\n" (builtins.readFile (root + "/sql/HECTIC_VERSION"));
  libFile = part: file:
    self.lib.hectic.${part}.sql == sqlFile file
    && builtins.readFile self.lib.hectic.${part}.path == sqlFile file
    && baseNameOf (toString self.lib.hectic.${part}.path) == file;

  checks = lib.foldl' (a: b: a // b) { } (map perPackage names) // {
    "packages: default is db-tool" = packages.default.drvPath == packages.db-tool.drvPath;
    "packages: each holds its executables" = lib.all (name: packages.${name}.executables == executables.${name}) names;
    "packages: every system evaluates" = lib.all
      (sys: lib.all (name: lib.hasPrefix "/nix/store/" self.packages.${sys}.${name}.drvPath) names)
      (lib.attrNames self.packages);

    "overlay: pkgs.hectic has exactly the four packages" = lib.attrNames pkgs.hectic == lib.sort lib.lessThan names;
    "overlay: keeps an existing pkgs.hectic" =
      let
        withOther = import stubFile { inherit system; overlays = [ (_: _: { hectic.other = "kept"; }) self.overlays.default ]; };
      in
      withOther.hectic.other == "kept" && withOther.hectic ? db-tool;

    "devShell: evaluates" = lib.isDerivation shell && lib.hasPrefix "/nix/store/" shell.drvPath;
    "devShell: shellHook is the seed's, sourcing the packaged postgres-init" =
      lib.all (line: has line shell.shellHook) [
        ''export LOCAL_DIR="$PWD"''
        ''export DATABASE_DIR="$LOCAL_DIR/db"''
        ''export MIGRATION_DIR="$DATABASE_DIR/migration"''
        ''export DATABASE_SOURCE="$DATABASE_DIR/src"''
        ''export PG_WORKING_DIR="$LOCAL_DIR/focus/postgresql"''
        "export DB_URL="
        ". ${pkgs.hectic.postgres-init}/bin/postgres-init"
      ];
    "devShell: has db-tool, postgres-init, postgres-cleanup and nodejs_22" =
      lib.all (drv: builtins.elem drv.outPath (map toString shell.nativeBuildInputs))
        [ pkgs.hectic.db-tool pkgs.hectic.postgres-init pkgs.hectic.postgres-cleanup pkgs.nodejs_22 ];

    "lib.hectic: versionString" = self.lib.hectic.versionString == versionString;
    "lib.hectic: version.sql is templated with the version" =
      has "'${versionString}'" self.lib.hectic.version.sql && !(has "@HECTIC_VERSION@" self.lib.hectic.version.sql)
      && !(self.lib.hectic.version ? path);
    "lib.hectic: secret sql and path" = libFile "secret" "hectic-secret.sql";
    "lib.hectic: migration sql and path" = libFile "migration" "hectic-migration.sql";
    "lib.hectic: inheritance sql and path" = libFile "inheritance" "hectic-inheritance.sql";

    "npm: every production lock entry is a fetch by npm pack with its integrity" =
      productionEntries != { } && lib.all (path: fetchedRight path productionEntries.${path}) (lib.attrNames productionEntries);
    "npm: every lock entry for this platform is fetched (scoped and nested too)" =
      lib.all (path: fetchedRight path allEntries.${path}) (lib.attrNames tarballs)
      && tarballs ? "node_modules/@types/node" && tarballs ? "node_modules/eslint/node_modules/chalk";
    "npm: other platforms' native binaries are not fetched" =
      !(tarballs ? "node_modules/fsevents") && !(tarballs ? "node_modules/@rolldown/binding-win32-x64-msvc");
    "npm: the build installs from that cache with its own config hook" =
      packages.db-tool.dbToolBuildScripts == root + "/nix/build"
      && lib.any (hook: (hook.name or "") == "db-tool-npm-config-hook") packages.db-tool.nativeBuildInputs;
  };

  failed = lib.attrNames (lib.filterAttrs (_: ok: !ok) checks);
in
{
  inherit failed;
  # What run.sh fetches with npm pack outside Nix, as the fixed-output derivations do.
  fetches = lib.mapAttrsToList (_: tarball: { spec = tarball.npmPackSpec; integrity = tarball.outputHash; }) tarballs;
  passed = lib.length (lib.attrNames checks) - lib.length failed;
  # Forcing these instantiates (without building) every derivation, fetches included.
  drvPaths = map (name: packages.${name}.drvPath) names
    ++ [ shell.drvPath ]
    ++ map (tarball: tarball.drvPath) (lib.attrValues tarballs);
}
