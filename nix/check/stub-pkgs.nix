# A small stand-in for nixpkgs, for evaluating the flake offline (nix/check/run.sh):
# the real nixpkgs `lib` (../shared/nixpkgs-lib beside the clone, or DB_TOOL_NIXPKGS_LIB),
# and just enough packages, each a derivation Nix can instantiate but never builds.
#
# It is as strict as nixpkgs where db-tool was bitten before:
#   - `postgresql` is 18, as on current nixpkgs: a `callPackage` that does not pass
#     postgresql_17 explicitly gets 18, and the check sees it;
#   - nodejs_20 is refused (marked insecure in nixpkgs);
#   - buildNpmPackage's own npmDeps (fetchNpmDeps) needs a hash, and its own config
#     hook needs that cache: using either fails evaluation.
{ system ? "x86_64-linux"
, overlays ? [ ]
, config ? { }
, nixpkgsLib ?
    let fromEnv = builtins.getEnv "DB_TOOL_NIXPKGS_LIB"; in
    if fromEnv != "" then /. + fromEnv else ../../../shared/nixpkgs-lib/lib
}:

let
  # Nix 2.8 has no builtins.readFileType (Nix ≥ 2.14), which lib.fileset uses: every file
  # of the lib is imported with it added, read from the parent folder's listing.
  readFileType = builtins.readFileType or (path: (builtins.readDir (dirOf path)).${baseNameOf path});
  scope = { builtins = builtins // { inherit readFileType; }; import = scopedImport scope; };
  lib = scopedImport scope nixpkgsLib;

  # Keeps every argument as the derivation's environment, so checks can read them.
  mkDerivation = args:
    let
      drv = derivation (removeAttrs args [ "passthru" "meta" ] // {
        name = args.name or "${args.pname}-${args.version}";
        inherit system;
        builder = "/bin/sh";
        args = [ "-c" "echo stub derivation: evaluation only >&2; exit 1" ];
      });
    in
    drv // (args.passthru or { }) // { meta = args.meta or { }; };

  stdenv = {
    inherit mkDerivation;
    isLinux = lib.hasSuffix "-linux" system;
    hostPlatform = lib.systems.elaborate system;
    buildPlatform = lib.systems.elaborate system;
  };

  mkPostgresql = version:
    let
      postgresql = mkDerivation { pname = "postgresql"; inherit version; } // {
        pkgs = {
          pg_cron = mkDerivation { pname = "pg_cron"; version = "1.6.7"; };
          postgis = mkDerivation { pname = "postgis"; version = "3.6.0"; };
        };
        withPackages = f: mkDerivation {
          name = "postgresql-and-plugins-${version}";
          plugins = f postgresql.pkgs;
        } // { inherit version; inherit (postgresql) pkgs withPackages; };
        withJIT = postgresql;
      };
    in
    postgresql;

  mkNodejs = version: mkDerivation { pname = "nodejs"; inherit version; } // {
    python = mkDerivation { pname = "python3"; version = "3.13.0"; };
  };

  base = self: {
    inherit lib stdenv system config;
    stdenvNoCC = stdenv;
    callPackage = lib.callPackageWith self;
    callPackages = lib.callPackagesWith self;

    runCommand = name: env: buildCommand: mkDerivation (env // { inherit name buildCommand; });
    writeText = name: text: mkDerivation { inherit name text; };
    symlinkJoin = { name, paths, ... }@args: mkDerivation (args // { buildCommand = "lndir"; });
    makeSetupHook = { name, ... }@args: script: mkDerivation ((removeAttrs args [ "substitutions" "propagatedBuildInputs" ]) // { inherit script; });
    makeWrapper = mkDerivation { name = "make-wrapper-hook"; };
    mkShell = args: mkDerivation ((removeAttrs args [ "packages" ]) // {
      name = args.name or "nix-shell";
      nativeBuildInputs = (args.nativeBuildInputs or [ ]) ++ (args.packages or [ ]);
    });

    fetchNpmDeps = { hash ? "", ... }:
      if hash == "" then throw "stub fetchNpmDeps: npmDepsHash is required (as in nixpkgs)" else mkDerivation { name = "npm-deps"; outputHash = hash; outputHashMode = "recursive"; };
    buildNpmPackage = { nodejs ? self.nodejs, npmDeps ? self.fetchNpmDeps { }, npmConfigHook ? null, npmBuildHook ? null, npmInstallHook ? null, nativeBuildInputs ? [ ], buildInputs ? [ ], ... }@args:
      mkDerivation ((removeAttrs args [ "npmConfigHook" "npmBuildHook" "npmInstallHook" "nodejs" ]) // {
        inherit npmDeps;
        nativeBuildInputs = nativeBuildInputs ++ [
          nodejs
          (if npmConfigHook != null then npmConfigHook else throw "stub buildNpmPackage: the default npmConfigHook needs a fetchNpmDeps cache with its hash")
          (if npmBuildHook != null then npmBuildHook else mkDerivation { name = "npm-build-hook"; })
          (if npmInstallHook != null then npmInstallHook else mkDerivation { name = "npm-install-hook"; })
          nodejs.python
        ];
        buildInputs = buildInputs ++ [ nodejs ];
      });

    nodejs_20 = throw "nodejs-20 is marked as insecure, refusing to evaluate (stub, as in current nixpkgs)";
    nodejs_22 = mkNodejs "22.20.0";
    nodejs_24 = mkNodejs "24.9.0";
    nodejs = self.nodejs_24;

    postgresql_15 = mkPostgresql "15.14";
    postgresql_16 = mkPostgresql "16.10";
    postgresql_17 = mkPostgresql "17.6";
    postgresql_18 = mkPostgresql "18.0";
    postgresql = self.postgresql_18;

    cacert = mkDerivation { pname = "nss-cacert"; version = "3.115"; };
    openssh = mkDerivation { pname = "openssh"; version = "10.0p2"; };
    less = mkDerivation { pname = "less"; version = "679"; };
    bash = mkDerivation { pname = "bash"; version = "5.3"; };
    coreutils = mkDerivation { pname = "coreutils"; version = "9.7"; };
    gnutar = mkDerivation { pname = "gnutar"; version = "1.35"; };
    gzip = mkDerivation { pname = "gzip"; version = "1.14"; };
    gnused = mkDerivation { pname = "gnused"; version = "4.9"; };
    findutils = mkDerivation { pname = "findutils"; version = "4.10.0"; };
    util-linux = mkDerivation { pname = "util-linux"; version = "2.41"; };
    dash = mkDerivation { pname = "dash"; version = "0.5.12"; };
    zsh = mkDerivation { pname = "zsh"; version = "5.9"; };
    nix = mkDerivation { pname = "nix"; version = "2.31.2"; };
  };
in
lib.fix (lib.extends (lib.composeManyExtensions overlays) base)
