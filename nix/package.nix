# db-tool built from this repository with buildNpmPackage. `component` selects which
# executables land in $out/bin: "db-tool" = all four. The chosen PostgreSQL, openssh and
# less go first on the tools' PATH.
#
# `postgresql` has no default on purpose: `callPackage` would fill it with
# `pkgs.postgresql` anyway. Callers pass it (nix/overlay.nix passes postgresql_17), and
# `.override { postgresql = …; }` swaps it.
{ lib
, stdenvNoCC
, buildNpmPackage
, makeSetupHook
, nodejs_22
, cacert
, postgresql
, openssh
, less
, component ? "db-tool"
}:

let
  packageJson = lib.importJSON ../package.json;
  executables = {
    db-tool = [ "database" "postgres-init" "postgres-cleanup" "migrator" ];
    postgres-init = [ "postgres-init" ];
    postgres-cleanup = [ "postgres-cleanup" ];
    migrator = [ "migrator" ];
  }.${component} or (throw "db-tool: unknown component ${component}");

  # Only what the build reads, so editing docs, tests or CI does not rebuild the package.
  root = ../.;
  sourceFiles = [ "package.json" "package-lock.json" "tsconfig.json" "tsconfig.build.json" "bin" "src" "sql" ];
  src = lib.cleanSourceWith {
    name = "db-tool-source";
    src = root;
    filter = path: _type:
      builtins.elem (lib.head (lib.splitString "/" (lib.removePrefix "${toString root}/" (toString path)))) sourceFiles;
  };

  npmDeps = import ./npm-deps.nix {
    inherit lib stdenvNoCC cacert;
    nodejs = nodejs_22;
    lockFile = lib.importJSON ../package-lock.json;
    pname = "db-tool";
  };
in
buildNpmPackage {
  pname = component;
  version = packageJson.version;
  inherit src;

  nodejs = nodejs_22;
  npmDeps = npmDeps.cache;
  npmConfigHook = makeSetupHook { name = "db-tool-npm-config-hook"; } ./build/npm-config-hook.sh;
  npmBuildScript = "build";

  # Shared with the offline check (nix/check/run.sh), which runs the same steps.
  dbToolBuildScripts = ./build;
  runtimePath = lib.makeBinPath [ postgresql openssh less ];
  nodeBinary = "${nodejs_22}/bin/node";
  inherit executables;

  installPhase = ''
    runHook preInstall
    sh "$dbToolBuildScripts/install-tree.sh" "$out" "$nodeBinary" "$runtimePath" $executables
    runHook postInstall
  '';

  passthru = {
    inherit postgresql;
    npmTarballs = npmDeps.tarballs;
  };

  meta = {
    description = packageJson.description;
    license = lib.licenses.mit;
    mainProgram = if component == "db-tool" then "database" else component;
    platforms = lib.platforms.unix;
  };
}
