/**
 * hectic.secret, hectic.load_secrets_from_env and hectic.get_secret: encryption at
 * rest, the key lookup, every dotenv rule, and that neither a plaintext secret nor the
 * key reaches a table or any pg_dump output. Runs against a private cluster made by
 * postgres-init (which configures hectic.secret_key); each group has its own database.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { parse } from 'pg-connection-string';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyBundle } from '../src/deploy/bundle.js';
import { silentLogger } from '../src/base/log.js';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { clientConfig, TestClients } from './helpers/pg-clients.js';

const run = promisify(execFile);

let cluster: TestCluster;
let admin: pg.Client;
const clients = new TestClients();
let databaseCounter = 0;
let secretKey: string;

function connection(database: string): pg.ClientConfig {
  return clientConfig(cluster.url, database);
}

/** A connected client on `database`, closed in afterAll. */
function connectTo(database: string): Promise<pg.Client> {
  return clients.connect(cluster.url, database);
}

/** A new database with the bundle applied, and a client on it. */
async function bundledDatabase(label: string, prepare?: (client: pg.Client) => Promise<void>): Promise<{ name: string; client: pg.Client }> {
  databaseCounter += 1;
  const name = `secrets_${label}_${databaseCounter}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const client = await connectTo(name);
  if (prepare) await prepare(client);
  await applyBundle(client, silentLogger);
  return { name, client };
}

async function pgProgram(name: string): Promise<string> {
  const major = Math.floor(Number((await admin.query('SHOW server_version_num')).rows[0].server_version_num) / 10000);
  for (const dir of [process.env.PG_BIN_DIR, `/usr/lib/postgresql/${major}/bin`]) {
    if (dir && fs.existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  return name;
}

/** Current secrets as a plain object, decrypted through get_secret. */
async function secrets(client: pg.Client): Promise<Record<string, string>> {
  const { rows } = await client.query('SELECT key, hectic.get_secret(key) AS value FROM hectic.secret ORDER BY key');
  return Object.fromEntries(rows.map((row) => [row.key as string, row.value as string]));
}

async function load(client: pg.Client, dotenv: string | null): Promise<number> {
  const { rows } = await client.query('SELECT hectic.load_secrets_from_env($1) AS n', [dotenv]);
  return rows[0].n as number;
}

/** The key as every session of the cluster sees it, waiting out a config reload. */
async function sessionKey(database: string): Promise<string | null> {
  const probe = new pg.Client(connection(database));
  await probe.connect();
  try {
    return (await probe.query("SELECT current_setting('hectic.secret_key', true) AS key")).rows[0].key as string | null;
  } finally {
    await probe.end();
  }
}

beforeAll(async () => {
  cluster = await startTestCluster();
  const database = parse(cluster.url).database ?? 'postgres';
  admin = new pg.Client(connection(database));
  await admin.connect();
  admin.on('error', () => undefined);

  let key = await sessionKey(database);
  if (!key) {
    // Not a postgres-init cluster with a key: configure one the documented way.
    await admin.query("SET hectic.secret_key = ''"); // before PostgreSQL 17 ALTER SYSTEM needs a known name
    await admin.query(`ALTER SYSTEM SET hectic.secret_key = 'test-key-${Date.now().toString(16)}-0123456789abcdef'`);
    await admin.query('RESET hectic.secret_key');
    await admin.query('SELECT pg_reload_conf()');
    for (let attempt = 0; attempt < 50 && !key; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      key = await sessionKey(database);
    }
  }
  if (!key) throw new Error('hectic.secret_key could not be configured for the test cluster');
  secretKey = key;
});

afterAll(async () => {
  await clients.closeAll();
  await admin?.end().catch(() => undefined);
  await cluster?.stop();
});

describe('the key', () => {
  it('is configured for every new session of the cluster, and not trivially short', () => {
    expect(secretKey.length).toBeGreaterThanOrEqual(16);
  });

  it('is required: without it get_secret and load_secrets_from_env fail clearly and change nothing', async () => {
    const { client } = await bundledDatabase('nokey');
    await load(client, 'A=1');
    await client.query("SET hectic.secret_key = ''");
    for (const statement of ["SELECT hectic.get_secret('A')", "SELECT hectic.load_secrets_from_env('B=2')"]) {
      await expect(client.query(statement), statement).rejects.toMatchObject({
        message: expect.stringContaining('hectic.secret_key is not set'),
        hint: expect.stringContaining('ALTER SYSTEM SET hectic.secret_key'),
      });
    }
    await client.query('RESET hectic.secret_key');
    expect(await secrets(client)).toEqual({ A: '1' });
  });

  it('must match: a different key cannot decrypt', async () => {
    const { client } = await bundledDatabase('wrongkey');
    await load(client, 'A=1');
    await client.query("SET hectic.secret_key = 'some-other-key-entirely'");
    await expect(client.query("SELECT hectic.get_secret('A')")).rejects.toMatchObject({
      message: expect.stringContaining('cannot decrypt secret "A"'),
    });
    await client.query('RESET hectic.secret_key');
  });

  it('is refused when set with ALTER DATABASE … SET, which would put it into dumps', async () => {
    const { name, client } = await bundledDatabase('dbsetting');
    await load(client, 'A=1');
    await admin.query(`ALTER DATABASE ${name} SET hectic.secret_key = '${secretKey}'`);
    try {
      const fresh = await connectTo(name);
      await expect(fresh.query("SELECT hectic.get_secret('A')")).rejects.toMatchObject({
        message: expect.stringContaining('ALTER DATABASE/ROLE'),
      });
    } finally {
      await admin.query(`ALTER DATABASE ${name} RESET hectic.secret_key`);
    }
    const again = await connectTo(name);
    expect(await secrets(again)).toEqual({ A: '1' });
  });
});

describe('round trip', () => {
  let name: string;
  let client: pg.Client;

  beforeAll(async () => {
    ({ name, client } = await bundledDatabase('roundtrip'));
  });

  it('stores values encrypted and returns them decrypted', async () => {
    expect(await load(client, 'API_TOKEN=tok-123\nEMPTY=\nUNICODE=héllo ☃ ünïcode')).toBe(3);
    expect(await secrets(client)).toEqual({ API_TOKEN: 'tok-123', EMPTY: '', UNICODE: 'héllo ☃ ünïcode' });
    const { rows } = await client.query("SELECT pg_typeof(value)::text AS type FROM hectic.secret WHERE key = 'API_TOKEN'");
    expect(rows[0].type).toBe('bytea');
  });

  it('returns NULL for an unknown key', async () => {
    const { rows } = await client.query("SELECT hectic.get_secret('NOPE') AS value");
    expect(rows[0].value).toBeNull();
  });

  it('works in a brand-new session with no setup', async () => {
    await load(client, 'API_TOKEN=tok-123');
    const fresh = await connectTo(name);
    const { rows } = await fresh.query("SELECT hectic.get_secret('API_TOKEN') AS value");
    expect(rows[0].value).toBe('tok-123');
  });

  it('replaces all secrets on every load', async () => {
    await load(client, 'A=1\nB=2');
    await load(client, 'C=3');
    expect(await secrets(client)).toEqual({ C: '3' });
    expect(await load(client, '')).toBe(0);
    expect(await secrets(client)).toEqual({});
  });

  it('keeps secrets out of reach of roles without privileges on hectic', async () => {
    await load(client, 'A=1');
    await client.query('CREATE ROLE hectic_test_outsider');
    try {
      await client.query('SET ROLE hectic_test_outsider');
      await expect(client.query("SELECT hectic.get_secret('A')")).rejects.toMatchObject({ code: '42501' });
      await expect(client.query('SELECT * FROM hectic.secret')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await client.query('RESET ROLE');
      await client.query('DROP ROLE hectic_test_outsider');
    }
  });
});

describe('dotenv rules', () => {
  let client: pg.Client;

  beforeAll(async () => {
    ({ client } = await bundledDatabase('dotenv'));
  });

  const cases: [string, string, Record<string, string>][] = [
    ['blank lines and # comments are skipped', '# comment\n\n   \nA=1\n  # indented comment\n\t\n#B=2\n', { A: '1' }],
    ['an optional leading export is ignored', 'export A=1\nexport   B = 2\nexport=3\nexporter=4', { A: '1', B: '2', export: '3', exporter: '4' }],
    ['the line splits at the first =', 'URL=postgres://u:p@h/db?x=1&y=2\nEQ==', { URL: 'postgres://u:p@h/db?x=1&y=2', EQ: '=' }],
    ['key and value are trimmed', '  A  =  spaced value  \n\tB\t=\tx\t', { A: 'spaced value', B: 'x' }],
    [
      'one pair of matching quotes is stripped',
      `D="double"\nS='single'\nI="  inner  "\nM="mismatched'\nO="\nE=""\nF=''\nN=""x""\nH="a"b"\nQ="it's"`,
      { D: 'double', S: 'single', I: '  inner  ', M: `"mismatched'`, O: '"', E: '', F: '', N: '"x"', H: 'a"b', Q: "it's" },
    ],
    ['CRLF line endings are fine', 'A=1\r\nB="2"\r\n\r\n# c\r\nC=3', { A: '1', B: '2', C: '3' }],
    ['a later duplicate wins', 'A=1\nB=x\nA=2\nexport A=3', { A: '3', B: 'x' }],
    ['an empty value is kept', 'A=\nB=""', { A: '', B: '' }],
    ['values keep # and spaces inside', 'A=x # not a comment\nB=p@ss w0rd!', { A: 'x # not a comment', B: 'p@ss w0rd!' }],
  ];

  for (const [title, dotenv, expected] of cases) {
    it(title, async () => {
      expect(await load(client, dotenv)).toBe(Object.keys(expected).length);
      expect(await secrets(client)).toEqual(expected);
    });
  }

  const badCases: [string, string, RegExp][] = [
    ['a line without = is an error naming its 1-based number', 'A=1\nB=2\nthis is not valid\nC=3', /line 3\b.*KEY=VALUE/],
    ['line numbers count blank, comment and CRLF lines', '# c\r\n\r\nexport LONELY\r\n', /line 3\b/],
    ['an empty key is an error', 'A=1\n  = value', /line 2\b.*empty key/],
    ['an export with nothing else is an error', 'export \nA=1', /line 1\b/],
  ];

  for (const [title, dotenv, message] of badCases) {
    it(`${title}, and the previous secrets stay`, async () => {
      await load(client, 'KEEP=me\nOTHER=too');
      await expect(load(client, dotenv)).rejects.toMatchObject({ message: expect.stringMatching(message) });
      expect(await secrets(client)).toEqual({ KEEP: 'me', OTHER: 'too' });
    });
  }

  it('never echoes the offending line, which may hold a secret', async () => {
    const error = await load(client, 'A=1\nghp_SuperSecretTokenWithoutEquals').catch((caught: Error) => caught);
    expect(String((error as Error).message)).toContain('line 2');
    expect(JSON.stringify(error)).not.toContain('SuperSecretToken');
  });

  it('rejects NULL instead of silently deleting everything', async () => {
    await load(client, 'KEEP=me');
    await expect(load(client, null)).rejects.toMatchObject({ message: expect.stringContaining('NULL') });
    expect(await secrets(client)).toEqual({ KEEP: 'me' });
  });
});

describe('pgcrypto installed in another schema', () => {
  it('is found wherever it lives, whatever the search_path', async () => {
    const { client } = await bundledDatabase('crypto', async (c) => {
      await c.query('CREATE SCHEMA crypto; CREATE EXTENSION pgcrypto WITH SCHEMA crypto');
    });
    const where = await client.query("SELECT extnamespace::regnamespace::text AS schema FROM pg_extension WHERE extname = 'pgcrypto'");
    expect(where.rows[0].schema).toBe('crypto');
    await client.query('SET search_path = public');
    await load(client, 'A=moved');
    expect(await secrets(client)).toEqual({ A: 'moved' });
    await client.query('ALTER EXTENSION pgcrypto SET SCHEMA public');
    expect(await secrets(client)).toEqual({ A: 'moved' });
  });
});

describe('no plaintext secret and no key in tables or dumps', () => {
  const plaintexts = ['Sup3r-S3cret-Passw0rd-0x7f', 'tok_live_51HqYzQ2eZvKYlo2C', 'héllo-ünïcode-secret-☃'];
  let name: string;
  let client: pg.Client;

  beforeAll(async () => {
    ({ name, client } = await bundledDatabase('dump'));
    await load(client, `DB_PASSWORD=${plaintexts[0]}\nexport STRIPE_KEY="${plaintexts[1]}"\nUNICODE='${plaintexts[2]}'`);
  });

  function expectClean(text: string, label: string): void {
    for (const secret of plaintexts) {
      expect(text.includes(secret), `${label} contains a plaintext secret`).toBe(false);
      expect(text.includes(Buffer.from(secret).toString('hex')), `${label} contains a hex-encoded secret`).toBe(false);
    }
    expect(text.includes(secretKey), `${label} contains the key`).toBe(false);
  }

  it('SELECT * FROM hectic.secret shows ciphertext only', async () => {
    const { rows } = await client.query('SELECT * FROM hectic.secret');
    expect(rows).toHaveLength(3);
    expectClean(JSON.stringify(rows.map((row) => ({ ...row, value: (row.value as Buffer).toString('latin1') }))), 'rows');
    const asText = await client.query("SELECT s::text AS t, encode(value, 'escape') AS e FROM hectic.secret AS s");
    expectClean(JSON.stringify(asText.rows), 'rows as text');
  });

  const flagSets: [string, string[]][] = [
    ['default', []],
    ['--inserts', ['--inserts']],
    ['--column-inserts', ['--column-inserts']],
    ['-Fp --data-only', ['-Fp', '--data-only']],
    ['--create', ['--create']],
    ['--schema=hectic --inserts', ['--schema=hectic', '--inserts']],
    ['-Fc -Z0 (uncompressed custom format)', ['-Fc', '-Z0']],
  ];

  for (const [label, flags] of flagSets) {
    it(`pg_dump ${label}`, async () => {
      const config = connection(name);
      const { stdout } = await run(
        await pgProgram('pg_dump'),
        ['-h', String(config.host), '-p', String(config.port ?? 5432), '-U', String(config.user), ...flags, name],
        { maxBuffer: 64 * 1024 * 1024, encoding: 'latin1' },
      );
      expect(stdout).toContain('secret'); // the table (or its data) really is in the dump
      expectClean(Buffer.from(stdout, 'latin1').toString('utf8'), `pg_dump ${label}`);
      expectClean(stdout, `pg_dump ${label} (bytes)`);
    });
  }
});
