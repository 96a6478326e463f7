/**
 * Does a stopped cluster hold anything a user made? Told from the files alone, without
 * starting it: every relation (table, index, sequence…) created after initdb gets a
 * file number of at least FirstNormalObjectId (16384) in its database's folder, while a
 * fresh cluster (initdb, or our template) holds only the catalogs' lower numbers. A few
 * readdirs, no server round trip, so a fresh start stays as fast as it was.
 */
import fs from 'node:fs';
import path from 'node:path';

const FIRST_NORMAL_OBJECT_ID = 16384;

/** `12345`, `12345_fsm`, `12345.1`: a relation's file number; undefined for other files. */
function fileNumber(name: string): number | undefined {
  const match = /^([0-9]+)(?:_[a-z]+)?(?:\.[0-9]+)?$/.exec(name);
  return match?.[1] ? Number(match[1]) : undefined;
}

/** True when a database folder of `dataDir` holds a relation made after initdb. */
export function holdsUserRelations(dataDir: string): boolean {
  const base = path.join(dataDir, 'base');
  let databases: string[];
  try {
    databases = fs.readdirSync(base);
  } catch {
    return false;
  }
  for (const database of databases) {
    let files: string[];
    try {
      files = fs.readdirSync(path.join(base, database));
    } catch {
      continue;
    }
    if (files.some((file) => (fileNumber(file) ?? 0) >= FIRST_NORMAL_OBJECT_ID)) return true;
  }
  return false;
}
