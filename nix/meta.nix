# The meta every db-tool derivation shares, from package.json. `homepage` is taken from
# package.json's own `homepage` once it declares one: this repository names no public
# home yet (the README writes its clone URL as https://<host>/<owner>/db-tool.git), and
# a made-up address would be worse than none.
{ lib, packageJson }:

{
  description = packageJson.description;
  license = lib.licenses.mit;
  platforms = lib.platforms.unix;
} // lib.optionalAttrs (packageJson ? homepage) { inherit (packageJson) homepage; }
