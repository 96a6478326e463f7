# lib.hectic: the SQL bundle as strings and store paths, for consumers that apply it with
# psql themselves. The version file is templated, so it only exposes `.sql`.
{ lib }:

let
  sqlDir = ../sql;
  versionString = lib.removeSuffix "\n" (builtins.readFile (sqlDir + "/HECTIC_VERSION"));
  file = name: {
    sql = builtins.readFile (sqlDir + "/${name}");
    path = sqlDir + "/${name}";
  };
in
{
  inherit versionString;
  version = {
    sql = builtins.replaceStrings [ "@HECTIC_VERSION@" ] [ versionString ]
      (builtins.readFile (sqlDir + "/hectic-version.sql"));
  };
  secret = file "hectic-secret.sql";
  migration = file "hectic-migration.sql";
  inheritance = file "hectic-inheritance.sql";
}
