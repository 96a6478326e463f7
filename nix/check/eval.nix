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
  unwrapped = packages.db-tool.unwrapped;
  tarballs = unwrapped.npmTarballs;
  cacheInputs = map toString unwrapped.npmDeps.tarballs;
  fetchedRight = path: entry:
    tarballs ? ${path}
    && tarballs.${path}.outputHash == entry.integrity
    && tarballs.${path}.outputHashMode == "flat"
    && tarballs.${path}.npmPackSpec == "${lockName path entry}@${entry.version}"
    && has "npm pack \"$npmPackSpec\"" tarballs.${path}.buildCommand
    && builtins.elem tarballs.${path}.outPath cacheInputs;

  # The derivations that write a package's executables: db-tool joins four of them.
  wrappersOf = drv: if drv ? programs then lib.attrValues drv.programs else [ drv ];
  # Everything the package and its wrappers were given.
  allEnvText = drv: lib.concatMapStrings envText ([ drv ] ++ wrappersOf drv);
  # Programs the tool starts (src/: cp, mv -T, rm, mkdir, stat, chown, sleep; tar
  # --anchored --exclude and the gzip it runs for -z; renice, ionice; ssh; less).
  spawned = [ pkgs.coreutils pkgs.gnutar pkgs.gzip pkgs.util-linux pkgs.openssh pkgs.less ];

  perPackage = name:
    let
      drv = packages.${name};
      on16 = drv.override { postgresql = pg16; };
      onCron = drv.override { postgresql = withCron; };
      builtOnce = variant:
        variant.unwrapped.drvPath == unwrapped.drvPath
        && lib.all (wrapper: toString wrapper.tree == unwrapped.outPath && has unwrapped.outPath (envText wrapper)) (wrappersOf variant);
    in
    {
      "${name}: evaluates to a derivation" = lib.isDerivation drv && lib.hasPrefix "/nix/store/" drv.drvPath;
      "${name}: overlay gives the same derivation as pkgs.hectic.${name}" = pkgs.hectic.${name}.drvPath == drv.drvPath;
      "${name}: default PostgreSQL is 17" =
        drv.postgresql.version == pg17.version && has (binOf pg17) drv.runtimePath
        && lib.all (wrapper: has (binOf pg17) wrapper.runtimePath) (wrappersOf drv);
      "${name}: pkgs.postgresql (18) is nowhere in it" = !(has pg18.outPath (allEnvText drv));
      "${name}: nodejs_22" =
        lib.all (wrapper: has "${pkgs.nodejs_22}/bin/node" wrapper.nodeBinary) (wrappersOf drv)
        && !(has pkgs.nodejs_24.outPath (allEnvText drv));
      "${name}: .override postgresql_16 changes the derivation" = on16.drvPath != drv.drvPath;
      "${name}: .override postgresql_16 is on PATH instead of 17" =
        lib.all (wrapper: has (binOf pg16) wrapper.runtimePath && !(has (binOf pg17) wrapper.runtimePath)) (wrappersOf on16)
        && on16.postgresql.version == pg16.version;
      "${name}: .override with pg_cron's withPackages" =
        lib.all (wrapper: has (binOf withCron) wrapper.runtimePath) (wrappersOf onCron) && onCron.drvPath != drv.drvPath;
      "${name}: every program the tool starts is on PATH" =
        lib.all (wrapper: lib.all (program: has (binOf program) wrapper.runtimePath) spawned) (wrappersOf drv);
      "${name}: the JavaScript is built once: the same for every package and PostgreSQL" =
        builtOnce drv && builtOnce on16 && builtOnce onCron;
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

  singles = lib.remove "db-tool" names;
  flakeChecks = self.checks.${system};

  checks = lib.foldl' (a: b: a // b) { } (map perPackage names) // {
    "packages: default is db-tool" = packages.default.drvPath == packages.db-tool.drvPath;
    "packages: db-tool joins the very single-program packages (the same store files)" =
      lib.all (name: builtins.elem packages.${name}.outPath (map toString packages.db-tool.paths)) singles
      && lib.all (name: builtins.elem (packages.${name}.override { postgresql = pg16; }).outPath
        (map toString (packages.db-tool.override { postgresql = pg16; }).paths)) singles;
    "packages: in one profile with db-tool, a single-program package gives way (meta.priority)" =
      lib.all (name: packages.${name}.meta.priority > (packages.db-tool.meta.priority or 5)) singles;
    "packages: the JavaScript holds no PostgreSQL and no wrapper" =
      lib.all (pg: !(has pg.outPath (envText unwrapped))) [ pg16 pg17 pg18 withCron ]
      && !(unwrapped ? runtimePath);
    "packages: MIT licence, with the LICENSE file" =
      lib.all (name: packages.${name}.meta.license == lib.licenses.mit) names
      && lib.hasInfix "MIT License" (builtins.readFile (root + "/LICENSE"));
    "packages: meta.homepage only from package.json's homepage" =
      let packageJson = lib.importJSON (root + "/package.json"); in
      lib.all (name: packages.${name}.meta.homepage or null == packageJson.homepage or null) names;
    "packages: the source holds only what the build reads (lib.fileset)" =
      lib.unique (map (file: lib.head (lib.splitString "/" (lib.removePrefix "${toString root}/" (toString file))))
        (lib.fileset.toList unwrapped.sourceFiles))
      == [ "bin" "package-lock.json" "package.json" "sql" "src" "tsconfig.build.json" "tsconfig.json" ];

    "checks: every package and the offline check" =
      lib.attrNames flakeChecks == lib.sort lib.lessThan (names ++ [ "nix-offline" ])
      && lib.all (name: flakeChecks.${name}.drvPath == packages.${name}.drvPath) names;
    "checks: the offline check runs run.sh on the lock's tarballs and the flake's nixpkgs lib" =
      has "nix/check/run.sh" flakeChecks.nix-offline.buildCommand
      && lib.sort lib.lessThan (map toString flakeChecks.nix-offline.tarballs)
        == lib.sort lib.lessThan (map (t: t.outPath) (lib.attrValues tarballs))
      && flakeChecks.nix-offline.DB_TOOL_NIXPKGS_LIB == "${nixpkgs}/lib";
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
    "devShell: starts a cluster only when asked (DB_TOOL_DEV_CLUSTER=1)" =
      has "if [ \"\${DB_TOOL_DEV_CLUSTER-}\" = 1 ]; then\n  # Initialize and start the ephemeral database cluster\n  . ${pkgs.hectic.postgres-init}/bin/postgres-init\nfi\n" shell.shellHook
      && builtins.length (lib.splitString "/bin/postgres-init" (plain shell.shellHook)) == 2;
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
    "devShell: has db-tool (all four) and nodejs_22, nothing built twice" =
      map toString shell.nativeBuildInputs == [ pkgs.hectic.db-tool.outPath pkgs.nodejs_22.outPath ]
      && builtins.elem pkgs.hectic.postgres-init.outPath (map toString pkgs.hectic.db-tool.paths);

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
      unwrapped.dbToolBuildScripts == root + "/nix/build"
      && lib.any (hook: (hook.name or "") == "db-tool-npm-config-hook") unwrapped.nativeBuildInputs
      && !(unwrapped ? npmDepsHash);
  };

  failed = lib.attrNames (lib.filterAttrs (_: ok: !ok) checks);
in
{
  inherit failed;
  # What run.sh fetches with npm pack outside Nix, as the fixed-output derivations do.
  fetches = lib.mapAttrsToList (_: tarball: { spec = tarball.npmPackSpec; integrity = tarball.outputHash; }) tarballs;
  passed = lib.length (lib.attrNames checks) - lib.length failed;
  # What run.sh puts side by side in one Nix profile.
  profile = map (name: { inherit name; pname = packages.${name}.name; priority = packages.${name}.meta.priority or 5; }) [ "db-tool" "postgres-init" ];
  # Forcing these instantiates (without building) every derivation, fetches included.
  drvPaths = map (name: packages.${name}.drvPath) names
    ++ [ shell.drvPath unwrapped.drvPath ]
    ++ map (check: check.drvPath) (lib.attrValues flakeChecks)
    ++ map (tarball: tarball.drvPath) (lib.attrValues tarballs);
}
