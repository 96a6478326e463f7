/**
 * shared_preload_libraries as PostgreSQL splits it: the restored copy of a diff keeps
 * the libraries of the original that this PostgreSQL has, so the list must be read as
 * the server reads it.
 */
import { describe, expect, it } from 'vitest';
import { splitListSetting } from '../src/cluster/preload-libraries.js';

describe('splitListSetting', () => {
  it('splits at commas and drops the spaces around each element', () => {
    expect(splitListSetting('pg_stat_statements, timescaledb ,pg_cron')).toEqual(['pg_stat_statements', 'timescaledb', 'pg_cron']);
  });

  it('takes a double-quoted element whole, with a doubled quote as one quote', () => {
    expect(splitListSetting('"$libdir/a,b", "odd""name"')).toEqual(['$libdir/a,b', 'odd"name']);
  });

  it('reads an empty setting, and empty elements, as no library', () => {
    expect(splitListSetting('')).toEqual([]);
    expect(splitListSetting('  ')).toEqual([]);
    expect(splitListSetting('a,,b,')).toEqual(['a', 'b']);
  });
});
