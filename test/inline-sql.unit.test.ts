/** Which SQL files psql may read inline instead of `\i`, and where their last statement ends. */
import { describe, expect, it } from 'vitest';
import { inlineSql, stdinLineMap } from '../src/pg/inline-sql.js';

const inline = (text: string) => inlineSql(Buffer.from(text));

describe('inlineSql', () => {
  it('splits a file at its final ; and counts its lines', () => {
    expect(inline('CREATE TABLE t (id int);\n')).toEqual({ head: 'CREATE TABLE t (id int)', rest: '\n', lineCount: 1 });
    expect(inline('SELECT 1;\nSELECT 2; -- two\n\n-- the end')).toEqual({ head: 'SELECT 1;\nSELECT 2', rest: ' -- two\n\n-- the end', lineCount: 4 });
    expect(inline('SELECT 1;')).toEqual({ head: 'SELECT 1', rest: '', lineCount: 1 });
  });

  it('sees past ; inside quotes, identifiers, comments, dollar quotes and parentheses', () => {
    const text = [
      "SELECT 'a;b''c;', \"x;\"\"y\" FROM t; -- not here;",
      '/* a ; /* nested ; */ still ; */',
      'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END $body$;',
      'CREATE RULE r AS ON INSERT TO t DO ALSO (NOTIFY a; NOTIFY b);',
      'SELECT $1, a$b, $$;$$;',
      '',
    ].join('\n');
    const sql = inline(text);
    expect(sql?.head).toBe(text.slice(0, text.lastIndexOf(';')));
    expect(sql?.rest).toBe('\n');
  });

  it('refuses what psql would read differently from a file', () => {
    for (const text of [
      '\\set x 1\nSELECT :x;\n', // psql's own commands (\ir, \set, \o …)
      "SELECT E'a\\nb';\n", // any backslash at all
      'SELECT 1', // the last statement is unterminated: psql sends it at the end of the file
      'SELECT 1;\nSELECT 2', // likewise
      'SELECT 1; /* left */\n', // a block comment would join the next query
      "SELECT 'open;\n", // an open quote …
      'SELECT $$ open;\n', // … dollar quote …
      'SELECT 1; /* open\n', // … comment …
      'SELECT (1;\n', // … or parenthesis
      'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\n', // psql tracks ; by keywords here
      'COPY t (a) FROM STDIN;\nfirst;\nsecond;\n', // its data would be the lines that follow the file
      '-- only a comment\n',
      '',
    ]) {
      expect(inline(text), JSON.stringify(text)).toBeUndefined();
    }
  });

  it('refuses bytes that are not UTF-8, and keeps those that are', () => {
    expect(inlineSql(Buffer.from([0x53, 0x45, 0x4c, 0x45, 0x43, 0x54, 0x20, 0x27, 0xe9, 0x27, 0x3b]))).toBeUndefined();
    expect(inline("SELECT 'é\ufffd';\n")?.head).toBe("SELECT 'é\ufffd'");
  });
});

describe('stdinLineMap', () => {
  it('names the file and its line for stdin lines that came from it, and leaves the rest', () => {
    const sources = [{ first: 10, lineCount: 2, file: '/m/a/up.sql' }, { first: 20, lineCount: 1, file: '/m/b/up.sql' }];
    const stderr = 'psql:<stdin>:9: NOTICE:  a\npsql:<stdin>:11: ERROR:  b\npsql:<stdin>:20: WARNING:  c\npsql:<stdin>:21: x\n';
    expect(stdinLineMap(stderr, sources)).toBe('psql:<stdin>:9: NOTICE:  a\npsql:/m/a/up.sql:2: ERROR:  b\npsql:/m/b/up.sql:1: WARNING:  c\npsql:<stdin>:21: x\n');
  });
});
