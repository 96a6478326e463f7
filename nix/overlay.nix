# Adds pkgs.hectic.{db-tool,postgres-init,postgres-cleanup,migrator}. Each one takes
# `.override { postgresql = …; }` (default postgresql_17).
final: prev: {
  hectic = (prev.hectic or { }) // {
    db-tool = final.callPackage ./package.nix { component = "db-tool"; };
    postgres-init = final.callPackage ./package.nix { component = "postgres-init"; };
    postgres-cleanup = final.callPackage ./package.nix { component = "postgres-cleanup"; };
    migrator = final.callPackage ./package.nix { component = "migrator"; };
  };
}
