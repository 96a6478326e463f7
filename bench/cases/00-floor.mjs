// The raw floor: what a shell script pays to get a database (initdb + pg_ctl start + createdb).
import fs from 'node:fs';
import path from 'node:path';
import { isRoot, run, tempDir } from '../lib.mjs';

const script = `
set -e
bindir=$(dirname "$(readlink -f "$(command -v initdb || echo /usr/lib/postgresql/15/bin/initdb)")")
[ -x "$bindir/initdb" ] || bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
"$bindir/initdb" -D "$1/data" -U bench --auth=trust --no-sync -E UTF8 --no-locale >/dev/null
"$bindir/pg_ctl" -D "$1/data" -o "-c listen_addresses='' -k $1 -c fsync=off" -l "$1/log" -w start >/dev/null
"$bindir/createdb" -h "$1" -U bench testdb
"$bindir/pg_ctl" -D "$1/data" -m immediate stop >/dev/null
`;

export default {
  name: 'floor: initdb+start+createdb',
  isFloor: true,
  runs: 3,
  setup: () => ({ dirs: [] }),
  async run(state) {
    const dir = tempDir();
    state.dirs.push(dir);
    if (isRoot) {
      const postgres = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
      const [, , uid, gid] = postgres.split(':');
      fs.chownSync(dir, Number(uid), Number(gid));
      await run('runuser', ['-u', 'postgres', '--', 'sh', '-c', script, 'sh', dir]);
    } else {
      await run('sh', ['-c', script, 'sh', dir]);
    }
  },
  async teardown(state) {
    for (const dir of state.dirs) fs.rmSync(path.resolve(dir), { recursive: true, force: true });
  },
};
