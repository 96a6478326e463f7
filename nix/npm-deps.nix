# The dependencies of package-lock.json, with no hash to maintain and no registry to name.
#
# npm writes this project's lock without `resolved` URLs, so each entry is fetched by
# a fixed-output derivation running `npm pack NAME@VERSION` (npm's built-in default
# registry), whose output hash is the entry's own `integrity`. The tarballs then go
# into an npm cache that the build installs from offline (build/install-offline.sh).
{ lib, stdenvNoCC, nodejs, cacert, lockFile, pname }:

let
  # "node_modules/a/node_modules/@s/b" holds the package "@s/b" (an npm alias records
  # the real name in the entry).
  packageName = path: entry: entry.name or (lib.last (lib.splitString "node_modules/" path));

  # npm's os/cpu/libc lists: names allowed, or "!name" excluded. Entries for other
  # platforms (optional native binaries) are not fetched, as npm would not install them.
  allows = value: list:
    let
      excluded = map (lib.removePrefix "!") (builtins.filter (lib.hasPrefix "!") list);
      allowed = builtins.filter (name: !lib.hasPrefix "!" name) list;
    in
    value == null || (!builtins.elem value excluded && (allowed == [ ] || builtins.elem value allowed));
  # Unknown platform details (a minimal package set) → no filtering: every entry is fetched.
  nodePlatform = stdenvNoCC.hostPlatform.node.platform or null;
  nodeArch = stdenvNoCC.hostPlatform.node.arch or null;
  libc = if stdenvNoCC.hostPlatform.isMusl or false then "musl" else "glibc";
  fitsHost = entry:
    allows nodePlatform (entry.os or [ ])
    && allows nodeArch (entry.cpu or [ ])
    && (nodePlatform != "linux" || allows libc (entry.libc or [ ]));

  # Entries npm fetches: not the root, not workspace links, not packages bundled inside
  # another package's tarball.
  fetched = lib.filterAttrs
    (path: entry: path != "" && !(entry.link or false) && !(entry.inBundle or false) && fitsHost entry)
    (lockFile.packages or (throw "package-lock.json: lockfileVersion 2 or 3 expected (npm ≥ 7)"));

  fetchNpmPack = path: entry:
    let
      name = packageName path entry;
      version = entry.version or (throw "package-lock.json: ${path} has no version");
      integrity = entry.integrity or (throw "package-lock.json: ${path} has no integrity (a git or file dependency?): only registry packages can be fetched by hash");
    in
    stdenvNoCC.mkDerivation {
      name = "npm-${lib.replaceStrings [ "@" "/" ] [ "" "-" ] name}-${version}.tgz";
      npmPackSpec = "${name}@${version}";
      nativeBuildInputs = [ nodejs ];
      outputHash = integrity;
      outputHashMode = "flat";
      impureEnvVars = lib.fetchers.proxyImpureEnvVars;
      SSL_CERT_FILE = "${cacert}/etc/ssl/certs/ca-bundle.crt";
      NODE_EXTRA_CA_CERTS = "${cacert}/etc/ssl/certs/ca-bundle.crt";
      buildCommand = ''
        export HOME="$TMPDIR"
        mkdir "$TMPDIR/pack"
        npm pack "$npmPackSpec" --pack-destination "$TMPDIR/pack" --cache "$TMPDIR/cache" \
          --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
        mv "$TMPDIR"/pack/*.tgz "$out"
      '';
    };

  tarballs = lib.mapAttrs fetchNpmPack fetched;
in
{
  # Lock path ("node_modules/…") → its tarball.
  inherit tarballs;

  # An npm cache (the folder `npm --cache` takes) holding every tarball.
  cache = stdenvNoCC.mkDerivation {
    name = "${pname}-npm-cache";
    nativeBuildInputs = [ nodejs ];
    tarballs = lib.attrValues tarballs;
    buildCommand = ''
      export HOME="$TMPDIR"
      sh ${./build/fill-npm-cache.sh} "$out" $tarballs
    '';
  };
}
