/**
 * A backup's base.tar.gz edited in place, where production's configuration travels
 * (its pg_hba.conf, its postgresql.conf): for tests of copies of another machine's cluster.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runProgram } from './cli.js';

/** Changes the files inside `backup`'s base.tar.gz, unpacked in a folder below `scratchParent`. */
export async function editBackupBase(backup: string, scratchParent: string, edit: (unpacked: string) => void): Promise<void> {
  const unpacked = fs.mkdtempSync(path.join(scratchParent, 'base-'));
  try {
    const archive = path.join(backup, 'base.tar.gz');
    const tar = async (args: string[]): Promise<void> => {
      const result = await runProgram('tar', args);
      if (result.code !== 0) throw new Error(`tar ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    };
    await tar(['-xzf', archive, '-C', unpacked]);
    edit(unpacked);
    fs.chmodSync(unpacked, 0o700);
    await tar(['-czf', archive, '-C', unpacked, '.']);
  } finally {
    fs.rmSync(unpacked, { recursive: true, force: true });
  }
}
