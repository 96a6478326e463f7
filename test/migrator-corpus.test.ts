/**
 * Hard migration files, each run as a real migration (`migrate up`): psql reads every
 * file whole (`\i`), and the runner's bookkeeping row follows as statements of its own in
 * the file's transaction, so no file is ever taken apart. Each case checks what the file
 * made, that its row is in hectic.migration exactly once, and for a failing file that
 * the file's work and its row are both gone. The passing files also run together in one
 * `up all`, where one file's state (standard_conforming_strings, an open `\if`…) must not
 * reach the next.
 */
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from './helpers/cli.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { MigratorWorkspace, relationExists, writeMigration } from './helpers/migrator.js';

let cluster: TestCluster;
let work: MigratorWorkspace;

beforeAll(async () => {
  cluster = await startTestCluster();
  work = await MigratorWorkspace.open(cluster, 'corpus');
});

afterAll(async () => {
  await work?.close();
  await cluster?.stop();
});

interface CorpusFile {
  /** The migration's name after its timestamp. */
  name: string;
  /** up.sql's exact bytes (or the files of an `up/` folder); `DIR` stands for the migration's folder. */
  up: string | Record<string, string>;
  /** What the file made, checked on the database afterwards. */
  check(client: pg.Client): Promise<void>;
}

interface FailingFile {
  name: string;
  up: string;
  /** What psql must have said (file:line and the error). */
  error: RegExp;
  /** Relations the file created before it failed: rolled back with it. */
  rolledBack: string[];
}

async function rows(client: pg.Client, sql: string): Promise<unknown[]> {
  return (await client.query(sql)).rows;
}

const PASSING: CorpusFile[] = [
  {
    name: 'dollar-quotes',
    up: [
      'CREATE TABLE dq (v text) INHERITS (hectic.created_at);',
      'CREATE FUNCTION dq_add(x text) RETURNS void LANGUAGE plpgsql AS $fn$',
      'BEGIN',
      "  -- a $$ inside a tagged body, and ; everywhere",
      '  EXECUTE $$INSERT INTO dq (v) VALUES ($1)$$ USING x || $tag$;$tag$;',
      'END;',
      '$fn$;',
      "SELECT dq_add($a$it's; $b$ not a close $b$ $a$);",
      'INSERT INTO dq (v) VALUES ($$two;$$), ($_1$ $$ $_1$);',
      '',
    ].join('\n'),
    async check(client) {
      expect(await rows(client, 'SELECT v FROM dq ORDER BY v COLLATE "C"')).toEqual([{ v: ' $$ ' }, { v: "it's; $b$ not a close $b$ ;" }, { v: 'two;' }]);
    },
  },
  {
    name: 'nested-block-comments',
    up: [
      '/* outer /* inner ; */ still a comment; -- not a line comment',
      "   INSERT INTO nowhere VALUES ('not run'); */",
      'CREATE TABLE nested (v int) INHERITS (hectic.created_at); /* a ; /* b */ c */ INSERT INTO nested (v) VALUES (1);',
      'INSERT INTO nested (v) VALUES (/* ; */ 2) /* end */;',
      '',
    ].join('\n'),
    async check(client) {
      expect(await rows(client, 'SELECT v FROM nested ORDER BY v')).toEqual([{ v: 1 }, { v: 2 }]);
    },
  },
  {
    name: 'escape-strings',
    up: [
      'CREATE TABLE esc (v text) INHERITS (hectic.created_at);',
      "INSERT INTO esc (v) VALUES (E'it\\'s; \\\\ fine'), (E'tab\\there'), (e'quote '' and \\';');",
      '',
    ].join('\n'),
    async check(client) {
      expect(await rows(client, 'SELECT v FROM esc ORDER BY v COLLATE "C"')).toEqual([{ v: "it's; \\ fine" }, { v: "quote ' and ';" }, { v: 'tab\there' }]);
    },
  },
  {
    name: 'standard-conforming-strings-off',
    up: [
      'SET standard_conforming_strings = off;',
      'SET escape_string_warning = off;',
      'CREATE TABLE scs (v text) INHERITS (hectic.created_at);',
      "INSERT INTO scs (v) VALUES ('it\\'s; off'), ('back\\\\slash');",
      '',
    ].join('\n'),
    async check(client) {
      expect(await rows(client, 'SELECT v FROM scs ORDER BY v COLLATE "C"')).toEqual([{ v: 'back\\slash' }, { v: "it's; off" }]);
    },
  },
  {
    // After the file above in the same run: its SET must not reach this one.
    name: 'standard-conforming-strings-back-on',
    up: "CREATE TABLE scs_on (v text) INHERITS (hectic.created_at);\nINSERT INTO scs_on (v) VALUES ('C:\\path\\n');\n",
    async check(client) {
      expect(await rows(client, 'SELECT v FROM scs_on')).toEqual([{ v: 'C:\\path\\n' }]);
    },
  },
  {
    name: 'copy-from-stdin',
    up: [
      'CREATE TABLE copied (id int, v text) INHERITS (hectic.created_at);',
      'COPY copied (id, v) FROM STDIN;',
      '1\tsemi;colon',
      "2\tit's \\\\ here",
      '3\t\\N',
      '\\.',
      'COPY copied (id, v) FROM stdin WITH (FORMAT csv);',
      '4,"a ""quoted"";"',
      '\\.',
      "INSERT INTO copied (id, v) VALUES (5, 'after');",
      '',
    ].join('\n'),
    async check(client) {
      expect(await rows(client, 'SELECT id, v FROM copied ORDER BY id')).toEqual([
        { id: 1, v: 'semi;colon' },
        { id: 2, v: "it's \\ here" },
        { id: 3, v: null },
        { id: 4, v: 'a "quoted";' },
        { id: 5, v: 'after' },
      ]);
    },
  },
  {
    name: 'psql-meta-commands',
    up: {
      'up/entrypoint.sql': [
        "\\set label 'from; a variable'",
        '\\set twice true',
        'CREATE TABLE meta (v text) INHERITS (hectic.created_at);',
        '\\if :twice',
        "INSERT INTO meta (v) VALUES (:'label'), ('in the if');",
        '\\else',
        "INSERT INTO meta (v) VALUES ('never');",
        '\\endif',
        '\\ir parts/sibling.sql',
        "\\i 'DIR/up/parts/absolute.sql'",
        'SELECT 1 AS one \\gset',
        "INSERT INTO meta (v) VALUES ('gset ' || :one);",
        '',
      ].join('\n'),
      'up/parts/sibling.sql': "INSERT INTO meta (v) VALUES ('sibling');\n",
      'up/parts/absolute.sql': "INSERT INTO meta (v) VALUES ('absolute')",
    },
    async check(client) {
      expect(await rows(client, 'SELECT v FROM meta ORDER BY v COLLATE "C"')).toEqual([
        { v: 'absolute' },
        { v: 'from; a variable' },
        { v: 'gset 1' },
        { v: 'in the if' },
        { v: 'sibling' },
      ]);
    },
  },
  {
    name: 'quoted-identifiers',
    up: [
      'CREATE TABLE "semi;colon" ("a;b" text, "it\'s" text, "say ""hi"";" int) INHERITS (hectic.created_at);',
      'INSERT INTO "semi;colon" ("a;b", "it\'s", "say ""hi"";") VALUES (\'x;y\', \'--not a comment\', 1);',
      '',
    ].join('\n'),
    async check(client) {
      expect(await rows(client, 'SELECT "a;b" AS a, "it\'s" AS b, "say ""hi"";" AS c FROM "semi;colon"')).toEqual([{ a: 'x;y', b: '--not a comment', c: 1 }]);
    },
  },
  {
    name: 'begin-atomic',
    up: [
      'CREATE TABLE atomic_t (v int) INHERITS (hectic.created_at);',
      'CREATE FUNCTION atomic_add(x int) RETURNS void LANGUAGE sql',
      'BEGIN ATOMIC',
      '  INSERT INTO atomic_t (v) VALUES (x);',
      '  INSERT INTO atomic_t (v) VALUES (x + 1);',
      'END;',
      'SELECT atomic_add(10);',
      '',
    ].join('\n'),
    async check(client) {
      expect(await rows(client, 'SELECT v FROM atomic_t ORDER BY v')).toEqual([{ v: 10 }, { v: 11 }]);
    },
  },
  {
    name: 'no-final-newline-no-final-semicolon',
    up: 'CREATE TABLE unterminated (v int) INHERITS (hectic.created_at);\nINSERT INTO unterminated (v) VALUES (1)',
    async check(client) {
      expect(await rows(client, 'SELECT v FROM unterminated')).toEqual([{ v: 1 }]);
    },
  },
  {
    name: 'ends-in-a-line-comment',
    up: 'CREATE TABLE line_comment (v int) INHERITS (hectic.created_at);\nINSERT INTO line_comment (v) VALUES (1); -- the end; really',
    async check(client) {
      expect(await rows(client, 'SELECT v FROM line_comment')).toEqual([{ v: 1 }]);
    },
  },
  {
    name: 'ends-in-a-block-comment',
    up: 'CREATE TABLE block_comment (v int) INHERITS (hectic.created_at);\nINSERT INTO block_comment (v) VALUES (1)\n/* the statement ends at the end of the file; */\n',
    async check(client) {
      expect(await rows(client, 'SELECT v FROM block_comment')).toEqual([{ v: 1 }]);
    },
  },
  {
    name: 'no-transaction',
    up: '-- db-tool: no-transaction\nCREATE TABLE outside (v int) INHERITS (hectic.created_at);\nCREATE INDEX CONCURRENTLY outside_v ON outside (v);\nINSERT INTO outside (v) VALUES (1)',
    async check(client) {
      expect(await rows(client, 'SELECT v FROM outside')).toEqual([{ v: 1 }]);
      expect(await relationExists(client, 'public.outside_v')).toBe(true);
    },
  },
];

const FAILING: FailingFile[] = [
  {
    name: 'fails-in-an-unterminated-last-statement',
    up: "CREATE TABLE f1 (v int) INHERITS (hectic.created_at);\nINSERT INTO f1 (v) VALUES (1);\nSELECT 'a;b'::int",
    error: /up\.sql:3: .*invalid input syntax for type integer: "a;b"/,
    rolledBack: ['public.f1'],
  },
  {
    name: 'fails-in-copy-data',
    up: 'CREATE TABLE f2 (v int) INHERITS (hectic.created_at);\nCOPY f2 (v) FROM STDIN;\n1\nnot a number\n\\.\n',
    error: /up\.sql:\d+: .*invalid input syntax for type integer: "not a number"/,
    rolledBack: ['public.f2'],
  },
  {
    name: 'fails-in-an-open-block-comment',
    up: 'CREATE TABLE f3 (v int) INHERITS (hectic.created_at);\nINSERT INTO f3 (v) VALUES (1); /* never closed; /* nested */\n',
    error: /unterminated \/\* comment/,
    rolledBack: ['public.f3'],
  },
  {
    name: 'fails-in-an-open-dollar-quote',
    up: 'CREATE TABLE f4 (v int) INHERITS (hectic.created_at);\nDO $body$ BEGIN RAISE NOTICE $$x$$; END\n',
    error: /unterminated dollar-quoted string/,
    rolledBack: ['public.f4'],
  },
  {
    name: 'fails-in-an-open-if',
    up: 'CREATE TABLE f5 (v int) INHERITS (hectic.created_at);\n\\if true\nINSERT INTO f5 (v) VALUES (1);\n',
    error: /reached EOF without finding closing \\endif/,
    rolledBack: ['public.f5'],
  },
  {
    name: 'fails-outside-a-transaction',
    up: '-- db-tool: no-transaction\nCREATE TABLE f6 (v int) INHERITS (hectic.created_at);\nINSERT INTO f6 (v) VALUES (1 / 0)',
    error: /up\.sql:3: .*division by zero/,
    // Outside a transaction, the CREATE TABLE before the error stays (said in the message); the row does not.
    rolledBack: [],
  },
];

/** Writes the files as migrations `2024010100000N-name` in order; returns their names. */
function writeCorpus(dir: string, files: ReadonlyArray<CorpusFile | FailingFile>): string[] {
  return files.map((file, index) => {
    const name = `2024010100${String(index).padStart(4, '0')}-${file.name}`;
    const folder = path.join(dir, name);
    const layout = typeof file.up === 'string' ? { 'up.sql': file.up, 'down.sql': '' } : { ...file.up, 'down/entrypoint.sql': '' };
    writeMigration(dir, name, Object.fromEntries(Object.entries(layout).map(([file, text]) => [file, text.replaceAll('DIR', folder)])));
    return name;
  });
}

async function timesRecorded(client: pg.Client, name: string): Promise<number> {
  const { rows: found } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM hectic.migration WHERE name = $1', [name]);
  return found[0]?.n ?? -1;
}

describe('hard migration files, each run as a real migration', () => {
  it.each(PASSING.map((file) => [file.name, file] as const))('%s: applied, its row recorded once', async (_name, file) => {
    const { url, client } = await work.database();
    const dir = work.folder();
    const [name = ''] = writeCorpus(dir, [file]);
    const result = await runBin('migrator', ['-u', url, '-d', dir, 'migrate', 'up'], { env: { HECTIC_LOG: 'warn' } });
    expect(result.code, result.stderr).toBe(0);
    await file.check(client);
    expect(await timesRecorded(client, name)).toBe(1);
  });

  it.each(FAILING.map((file) => [file.name, file] as const))('%s: exit 4, its work and its row rolled back', async (_name, file) => {
    const { url, client } = await work.database();
    const dir = work.folder();
    const [name = ''] = writeCorpus(dir, [file]);
    const result = await runBin('migrator', ['-u', url, '-d', dir, 'migrate', 'up'], { env: { HECTIC_LOG: 'warn' } });
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toContain(`migration ${name} (up`);
    expect(result.stderr).toMatch(file.error);
    expect(await timesRecorded(client, name)).toBe(0);
    for (const relation of file.rolledBack) expect(await relationExists(client, relation), relation).toBe(false);
  });

  it('all the passing files in one run, each from a clean session: every check holds, every row once', async () => {
    const { url, client } = await work.database();
    const dir = work.folder();
    const names = writeCorpus(dir, PASSING);
    const result = await runBin('migrator', ['-u', url, '-d', dir, 'migrate', 'up', 'all'], { env: { HECTIC_LOG: 'warn' } });
    expect(result.code, result.stderr).toBe(0);
    for (const file of PASSING) await file.check(client);
    for (const name of names) expect(await timesRecorded(client, name), name).toBe(1);
  });

  it('a failing file after passing ones: they stay applied, it and its row are gone, nothing after it runs', async () => {
    const { url, client } = await work.database();
    const dir = work.folder();
    const named = (files: ReadonlyArray<CorpusFile | FailingFile>, name: string) => files.find((file) => file.name === name) ?? expect.fail(`no corpus file ${name}`);
    const [before, copy, failing, after] = [
      named(PASSING, 'dollar-quotes') as CorpusFile,
      named(PASSING, 'copy-from-stdin') as CorpusFile,
      named(FAILING, 'fails-in-an-unterminated-last-statement'),
      named(PASSING, 'nested-block-comments'),
    ];
    const names = writeCorpus(dir, [before, copy, failing, after]);
    const result = await runBin('migrator', ['-u', url, '-d', dir, 'migrate', 'up', 'all'], { env: { HECTIC_LOG: 'warn' } });
    expect(result.code, result.stderr).toBe(4);
    await before.check(client);
    await copy.check(client);
    const recorded: number[] = [];
    for (const name of names) recorded.push(await timesRecorded(client, name));
    expect(recorded).toEqual([1, 1, 0, 0]);
    expect(await relationExists(client, 'public.f1')).toBe(false);
    expect(await relationExists(client, 'public.nested')).toBe(false);
  });
});
