# The shell of the seed's example: entering it starts the project's cluster and exports PGURL.
{ pkgs }:

let
  pg = pkgs.postgresql_17.withPackages (ps: [ ps.pg_cron ]);
  dbTool = pkgs.hectic.db-tool.override { postgresql = pg; };
in
pkgs.mkShell {
  packages = [ dbTool pkgs.nodejs_20 ];

  shellHook = ''
    export LOCAL_DIR="$PWD"
    export DATABASE_DIR="$LOCAL_DIR/db"
    export MIGRATION_DIR="$DATABASE_DIR/migration"
    export DATABASE_SOURCE="$DATABASE_DIR/src"
    export PG_WORKING_DIR="$LOCAL_DIR/focus/postgresql"
    export DB_URL="postgresql://$USER@/testdb?host=$PG_WORKING_DIR/sock&port=5432"

    # Initialize and start the ephemeral database cluster
    . ${dbTool}/bin/postgres-init
  '';
}
