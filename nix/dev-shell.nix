# The dev shell of db-tool's own repository: the packaged tools and Node.js 22 for
# working on db-tool itself (npm ci, npm test). The tests start clusters of their own, so
# entering the shell starts none; `DB_TOOL_DEV_CLUSTER=1 nix develop` runs the seed's
# shellHook, which starts the project's cluster (fresh each time; `export PG_REUSE=1`
# keeps the data). The seed's HECTIC_LIB line is left out: it names a helper package
# this flake does not have.
{ pkgs }:

pkgs.mkShell {
  packages = [
    pkgs.hectic.db-tool # all four executables
    pkgs.nodejs_22
  ];

  shellHook = ''
    export LOCAL_DIR="$PWD"
    export DATABASE_DIR="$LOCAL_DIR/db"
    export MIGRATION_DIR="$DATABASE_DIR/migration"
    export DATABASE_SOURCE="$DATABASE_DIR/src"
    export PG_WORKING_DIR="$LOCAL_DIR/focus/postgresql"
    # The cluster's socket lives in $PG_WORKING_DIR/sock; its database is testdb.
    export DB_URL="postgresql://$USER@/testdb?host=$PG_WORKING_DIR/sock&port=5432"

    if [ "''${DB_TOOL_DEV_CLUSTER-}" = 1 ]; then
      # Initialize and start the ephemeral database cluster
      . ${pkgs.hectic.postgres-init}/bin/postgres-init
    fi
  '';
}
