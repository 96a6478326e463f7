# db-tool built from this repository with buildNpmPackage + importNpmLock (no vendored
# hash to maintain). `component` selects which executables land in $out/bin:
# "db-tool" = all four. The chosen PostgreSQL, openssh and less go first on the tools' PATH.
{ lib
, buildNpmPackage
, importNpmLock
, nodejs_20
, makeWrapper
, postgresql_17
, postgresql ? postgresql_17
, openssh
, less
, component ? "db-tool"
  # Base URL of the npm registry, used only when package-lock.json was written without
  # `resolved` URLs (npm's omit-lockfile-registry-resolved). Tarball URLs are then
  # derived from it: <registry>/<name>/-/<basename>-<version>.tgz.
, npmRegistry ? null
}:

let
  packageJson = lib.importJSON ../package.json;
  executables = {
    db-tool = [ "database" "postgres-init" "postgres-cleanup" "migrator" ];
    postgres-init = [ "postgres-init" ];
    postgres-cleanup = [ "postgres-cleanup" ];
    migrator = [ "migrator" ];
  }.${component};
  runtimePath = lib.makeBinPath [ postgresql openssh less ];
  src = lib.cleanSourceWith {
    src = ../.;
    filter = path: _type:
      let name = baseNameOf path; in
      !(builtins.elem name [ "node_modules" "dist" "focus" ".git" ]);
  };
  lockFile = lib.importJSON ../package-lock.json;
  withResolved = path: entry:
    if path == "" || entry ? resolved || entry ? link || !(entry ? version) then entry
    else if npmRegistry == null then
      throw "package-lock.json has no `resolved` URL for ${path}: pass `npmRegistry` to db-tool's package, or regenerate the lock file with `npm install --package-lock-only --omit-lockfile-registry-resolved=false`"
    else
      let
        name = lib.removePrefix "node_modules/" (lib.last (lib.splitString "/node_modules/" path));
        baseName = lib.last (lib.splitString "/" name);
      in
      entry // { resolved = "${npmRegistry}/${name}/-/${baseName}-${entry.version}.tgz"; };
  packageLock = lockFile // { packages = lib.mapAttrs withResolved lockFile.packages; };
in
buildNpmPackage {
  pname = component;
  version = packageJson.version;
  inherit src;

  nodejs = nodejs_20;
  npmDeps = importNpmLock { npmRoot = src; inherit packageLock; };
  npmConfigHook = importNpmLock.npmConfigHook;
  npmBuildScript = "build";

  nativeBuildInputs = [ makeWrapper ];

  installPhase = ''
    runHook preInstall
    npm prune --omit=dev
    root=$out/lib/db-tool
    mkdir -p $root $out/bin
    cp -r bin dist sql package.json node_modules $root/

    for exe in ${lib.concatStringsSep " " executables}; do
      if [ "$exe" = postgres-init ]; then
        # Sourceable POSIX sh: a makeWrapper script would `exec` and replace the calling
        # shell, so the file itself gets the PATH prefix and the node binary.
        substitute $root/bin/postgres-init $out/bin/postgres-init \
          --replace-fail '__pgi_path_prefix=' '__pgi_path_prefix=${runtimePath}' \
          --replace-fail '__pgi_node_path=' '__pgi_node_path=${nodejs_20}/bin/node'
        # The copy lives in $out/bin, not beside dist/: point it at the package.
        substituteInPlace $out/bin/postgres-init \
          --replace-fail '"$(dirname "$__pgi_self")/../dist/cli/postgres-init.js"' "\"$root/dist/cli/postgres-init.js\""
        chmod +x $out/bin/postgres-init
      else
        makeWrapper ${nodejs_20}/bin/node $out/bin/$exe \
          --add-flags "$root/dist/cli/$exe.js" \
          --prefix PATH : ${runtimePath}
      fi
    done
    runHook postInstall
  '';

  passthru = { inherit postgresql; };

  meta = {
    description = packageJson.description;
    license = lib.licenses.mit;
    mainProgram = if component == "db-tool" then "database" else component;
    platforms = lib.platforms.unix;
  };
}
