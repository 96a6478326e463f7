// The floor of `database diff` (issue 22 §2): the same work done by hand in a shell
// script, on the same inputs as the diff case — the project's backup and sources.
//
//   DB1  the backup's base and WAL archives extracted into a data folder, archiving
//        off, started, the pending migration applied with psql, `pg_dump -s`;
//   DB2  initdb, started, createdb, the hectic bundle and the sources' entrypoint
//        loaded with psql, `pg_dump -s`;
//   then `diff` of the two dumps, and both servers stopped (`-m immediate`).
//
// The two sides run in parallel (`&`, `wait`), as diff builds them: the best a script
// does, so the floor is not flattered. No template cache, no spares: what a developer
// without the tool would type.
import fs from 'node:fs';
import path from 'node:path';
import { isRoot, ROOT, run, secondsOf, tempDir } from './lib.mjs';

// The PostgreSQL programs' folder, as the floor (00-floor) finds it.
const BINDIR = `
bindir=$(dirname "$(readlink -f "$(command -v initdb || echo /usr/lib/postgresql/15/bin/initdb)")")
[ -x "$bindir/initdb" ] || bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
`;

const SCRIPT = `
set -e
w=$1; backup=$2; migration=$3; entrypoint=$4; bundle=$5; user=$6; db=$7
${BINDIR}opts="-c listen_addresses='' -c fsync=off -c logging_collector=off -c shared_preload_libraries=''"
psql() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
mkdir -m 700 "$w/s1" "$w/s2"
(
  mkdir -m 700 "$w/db1"
  tar -xzf "$backup/base.tar.gz" -C "$w/db1"
  tar -xzf "$backup/pg_wal.tar.gz" -C "$w/db1/pg_wal"
  echo "archive_mode = off" >> "$w/db1/postgresql.conf"
  "$bindir/pg_ctl" -D "$w/db1" -o "$opts -k $w/s1" -l "$w/db1.log" -w start >/dev/null
  psql -h "$w/s1" -U "$user" -d "$db" -1 -f "$migration" >/dev/null
  "$bindir/pg_dump" -s -h "$w/s1" -U "$user" "$db" > "$w/db1.sql"
) &
db1=$!
(
  "$bindir/initdb" -D "$w/db2" -U "$user" --auth=trust --no-sync -E UTF8 --no-locale >/dev/null
  "$bindir/pg_ctl" -D "$w/db2" -o "$opts -k $w/s2" -l "$w/db2.log" -w start >/dev/null
  "$bindir/createdb" -h "$w/s2" -U "$user" "$db"
  psql -h "$w/s2" -U "$user" -d "$db" -f "$bundle" -f "$entrypoint" >/dev/null
  "$bindir/pg_dump" -s -h "$w/s2" -U "$user" "$db" > "$w/db2.sql"
) &
db2=$!
ok=0
wait $db1 || ok=1
wait $db2 || ok=1
diff -u "$w/db1.sql" "$w/db2.sql" > "$w/dumps.diff" || true
"$bindir/pg_ctl" -D "$w/db1" -m immediate stop >/dev/null 2>&1 || true
"$bindir/pg_ctl" -D "$w/db2" -m immediate stop >/dev/null 2>&1 || true
exit $ok
`;

const SERVER_STOP = `${BINDIR}"$bindir/pg_ctl" -D "$1" -m immediate stop >/dev/null 2>&1
`;

function serverAccount() {
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${process.env.PG_OS_USER ?? 'postgres'}:`));
  const [name, , uid, gid] = line.split(':');
  return { name, uid: Number(uid), gid: Number(gid) };
}

/** The last migration's up file (the one the backup lacks). */
function pendingUpFile(migrationDir) {
  const last = fs.readdirSync(migrationDir).filter((name) => /^[0-9]{14}-/.test(name)).sort().at(-1);
  const plain = path.join(migrationDir, last, 'up.sql');
  return fs.existsSync(plain) ? plain : path.join(migrationDir, last, 'up', 'entrypoint.sql');
}

/**
 * What the script needs, made once (not timed): a readable copy of the backup (as root
 * the backup is root's, 0600) and the bundle as one file, owned by whoever runs it.
 */
export function prepareByHand(projectDir, parent) {
  const dir = tempDir('db-tool-bench-by-hand-', parent);
  const backup = path.join(dir, 'backup');
  fs.cpSync(path.join(projectDir, 'focus', 'postgresql-backup'), backup, { recursive: true });
  const info = JSON.parse(fs.readFileSync(path.join(backup, 'db-tool-backup.json'), 'utf8'));
  const version = fs.readFileSync(path.join(ROOT, 'sql', 'HECTIC_VERSION'), 'utf8').trim();
  const files = ['hectic-version.sql', 'hectic-secret.sql', 'hectic-migration.sql', 'hectic-inheritance.sql'];
  const bundle = path.join(dir, 'bundle.sql');
  fs.writeFileSync(bundle, files.map((name) => fs.readFileSync(path.join(ROOT, 'sql', name), 'utf8').replaceAll('@HECTIC_VERSION@', version)).join('\n'));
  // As root the clusters run as the server account; otherwise the backup's superuser is us.
  const owner = isRoot ? serverAccount() : undefined;
  if (owner) {
    for (const entry of [dir, ...fs.readdirSync(dir, { recursive: true }).map((name) => path.join(dir, name))]) fs.chownSync(entry, owner.uid, owner.gid);
  }
  return {
    dir,
    owner,
    args: [backup, pendingUpFile(path.join(projectDir, 'db', 'migration')), path.join(projectDir, 'db', 'src', 'entrypoint.sql'), bundle, owner ? owner.name : currentUser(), info.database],
  };
}

function currentUser() {
  return process.env.USER ?? fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === String(process.getuid())).split(':')[0];
}

/**
 * One run of the script, in a fresh folder below the prepared one: its seconds. The
 * folder is removed after the timing (diff, too, leaves its data to a background rm).
 */
export async function runByHand(prepared) {
  const work = fs.mkdtempSync(path.join(prepared.dir, 'run-'));
  fs.chmodSync(work, 0o755);
  const asOwner = (program, args) => (prepared.owner ? run('runuser', ['-u', prepared.owner.name, '--', program, ...args]) : run(program, args));
  try {
    if (prepared.owner) fs.chownSync(work, prepared.owner.uid, prepared.owner.gid);
    const seconds = await secondsOf(() => asOwner('sh', ['-c', SCRIPT, 'sh', work, ...prepared.args]));
    if (!fs.existsSync(path.join(work, 'db1.sql')) || !fs.existsSync(path.join(work, 'db2.sql'))) throw new Error(`by hand: no dumps in ${work}`);
    return seconds;
  } finally {
    // A failed or interrupted script may leave its servers running (pg_ctl starts them
    // in a session of their own): stop them before their folders go.
    for (const data of ['db1', 'db2'].map((name) => path.join(work, name))) {
      if (fs.existsSync(path.join(data, 'postmaster.pid'))) await asOwner('sh', ['-c', SERVER_STOP, 'sh', data]).catch(() => {});
    }
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export function removeByHand(prepared) {
  fs.rmSync(prepared.dir, { recursive: true, force: true });
}
