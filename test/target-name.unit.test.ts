/** How targets are named (host or socket, port, database; never a password) and when two URLs differ. */
import { describe, expect, it } from 'vitest';
import { conflictNote, describeTarget, sameDatabase } from '../src/pg/target-name.js';

describe('describeTarget', () => {
  it('names the database and where it is, never the password', () => {
    expect(describeTarget('postgresql://me@/testdb?host=/p/focus/postgresql/sock&port=5499')).toBe('database testdb on socket /p/focus/postgresql/sock (port 5499)');
    expect(describeTarget('postgresql://u:hunter2@db.example.com:6543/app')).toBe('database app on db.example.com:6543');
    expect(describeTarget('postgres://u:hunter2@db.example.com/app')).not.toContain('hunter2');
    expect(describeTarget('postgresql:///app')).toBe('database app on the default socket (port 5432)');
  });
});

describe('sameDatabase and conflictNote', () => {
  const a = 'postgresql://me@/testdb?host=/p/sock&port=5432';
  it('tell the same database however the URL is spelled', () => {
    expect(sameDatabase(a, 'postgresql://other@/testdb?port=5432&host=/p/sock/')).toBe(true);
    expect(sameDatabase(a, 'postgresql://me@/testdb?host=/p/sock&port=5499')).toBe(false);
    expect(sameDatabase(a, 'postgresql://me@/other?host=/p/sock&port=5432')).toBe(false);
    expect(conflictNote(['PGURL', a], ['DB_URL', a])).toBeUndefined();
  });

  it('say in one line which variable is used and which ignored', () => {
    const note = conflictNote(['DB_URL', 'postgresql://u:pw@h/app'], ['PGURL', a]);
    expect(note).toBe('DB_URL and PGURL name different databases: using DB_URL (database app on h:5432), ignoring PGURL (database testdb on socket /p/sock (port 5432))');
    expect(note).not.toContain('\n');
  });
});
