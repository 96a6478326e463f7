# db-tool's JavaScript, built once with buildNpmPackage: $out/lib/db-tool (compiled
# dist/, the SQL bundle, production node_modules) and the shell completions under
# $out/share. No executable in $out/bin and no PostgreSQL: the programs are thin
# wrappers around this tree (nix/package.nix), so choosing another PostgreSQL only
# rewrites the wrappers, never recompiles this.
{ lib
, stdenvNoCC
, buildNpmPackage
, makeSetupHook
, nodejs_22
, cacert
}:

let
  packageJson = lib.importJSON ../package.json;

  # Only what the build reads, so editing docs, tests, CI or the Nix files does not
  # rebuild the JavaScript.
  sourceFiles = lib.fileset.unions [
    ../package.json
    ../package-lock.json
    ../tsconfig.json
    ../tsconfig.build.json
    ../bin
    ../src
    ../sql
  ];
  src = lib.fileset.toSource { root = ../.; fileset = sourceFiles; };

  npmDeps = import ./npm-deps.nix {
    inherit lib stdenvNoCC cacert;
    nodejs = nodejs_22;
    lockFile = lib.importJSON ../package-lock.json;
    pname = "db-tool";
  };
in
buildNpmPackage {
  pname = "db-tool-unwrapped";
  version = packageJson.version;
  inherit src;

  nodejs = nodejs_22;
  npmDeps = npmDeps.cache;
  npmConfigHook = makeSetupHook { name = "db-tool-npm-config-hook"; } ./build/npm-config-hook.sh;
  npmBuildScript = "build";

  # Shared with the offline check (nix/check/run.sh), which runs the same steps.
  dbToolBuildScripts = ./build;
  nodeBinary = "${nodejs_22}/bin/node";

  installPhase = ''
    runHook preInstall
    sh "$dbToolBuildScripts/install-tree.sh" "$out" "$nodeBinary"
    runHook postInstall
  '';

  passthru = {
    inherit sourceFiles;
    nodejs = nodejs_22;
    npmTarballs = npmDeps.tarballs;
  };

  meta = import ./meta.nix { inherit lib packageJson; } // {
    description = "${packageJson.description} (the JavaScript, without its wrappers)";
  };
}
