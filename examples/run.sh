#!/usr/bin/env bash
# Runs the example project end to end (`npm run example`, which builds first):
#   1. `database check`            the database builds from scratch in a private cluster;
#   2. `database deploy --cleanup` the same in the project cluster, which is then stopped;
#   3. `database deploy`, `database test`, `database status`, `database cleanup`: the
#      developer's loop on the project cluster.
# Exits non-zero when any step fails, and leaves nothing behind (the cluster folder is removed).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
export PATH="$root/bin:$PATH"

# The example's own settings; anything from the caller's shell that would point the
# commands at another project or database is dropped.
unset PG_WORKING_DIR DATABASE_DIR DATABASE_SOURCE MIGRATION_DIR PROFILE_DIR HYDRATE_ENTRYPOINT \
      HYDRATE_LOG PATCH_LOG PG_LOG_PATH HECTIC_DOTENV_FILE PG_URL_VAR PGURL DB_URL PG_REUSE
export LOCAL_DIR="$here/shop"
export ENVIRONMENT=example   # hydrate loads $LOCAL_DIR/.env.example into hectic.secret

focus="$LOCAL_DIR/focus"
focus_existed=0
[ -d "$focus" ] && focus_existed=1

cleanup() {
    database cleanup >/dev/null 2>&1 || true
    if [ "$focus_existed" = 0 ]; then rmdir "$focus" 2>/dev/null || true; fi
}
trap cleanup EXIT

echo "==> database check" >&2
database check

echo "==> database deploy --cleanup" >&2
database deploy --cleanup

echo "==> database deploy && database test && database status" >&2
database deploy
database test
database status

echo "==> database cleanup" >&2
database cleanup

echo "==> example passed" >&2
