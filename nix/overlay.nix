# Adds pkgs.hectic.{db-tool,postgres-init,postgres-cleanup,migrator}. Each one takes
# `.override { postgresql = …; }`, which makes its wrappers anew around the same
# JavaScript (built once, nix/unwrapped.nix).
#
# `callPackage` fills every argument it finds in pkgs, defaults included, so a default of
# `postgresql ? postgresql_17` would silently become `pkgs.postgresql` (18 on current
# nixpkgs): PostgreSQL 17 is passed here explicitly.
final: prev:
let
  unwrapped = final.callPackage ./unwrapped.nix { };
  package = component: final.callPackage ./package.nix {
    inherit component unwrapped;
    postgresql = final.postgresql_17;
  };
in
{
  hectic = (prev.hectic or { }) // {
    db-tool = package "db-tool";
    postgres-init = package "postgres-init";
    postgres-cleanup = package "postgres-cleanup";
    migrator = package "migrator";
  };
}
