/**
 * Shared by the migrator tests: one cluster per file, a fresh database per test,
 * migration folders copied from test/fixtures/migrator or written on the spot.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { parse } from 'pg-connection-string';
import { ROOT, makeTempDir } from './env.js';
import type { TestCluster } from './cluster.js';

export const MIGRATOR_FIXTURES = path.join(ROOT, 'test', 'fixtures', 'migrator');

/** The cluster URL pointing at another database of the same server. */
export function urlFor(clusterUrl: string, database: string): string {
  return clusterUrl.replace(/^(postgres(?:ql)?:\/\/[^/]*\/)[^?]*/, `$1${database}`);
}

/** A pg client on a database of the test cluster. */
export async function connectTo(cluster: TestCluster, database: string): Promise<pg.Client> {
  const params = parse(cluster.url);
  const client = new pg.Client({
    host: params.host ?? undefined,
    port: params.port ? Number(params.port) : undefined,
    user: params.user ?? undefined,
    database,
  });
  await client.connect();
  client.on('error', () => undefined);
  return client;
}

/** Makes databases and folders for the tests of one file; `close()` drops nothing but closes clients. */
export class MigratorWorkspace {
  private counter = 0;
  private readonly clients: pg.Client[] = [];
  readonly root: string;

  constructor(
    readonly cluster: TestCluster,
    private readonly admin: pg.Client,
    readonly label: string,
  ) {
    this.root = makeTempDir(`db-tool-migrator-${label}-`);
  }

  static async open(cluster: TestCluster, label: string): Promise<MigratorWorkspace> {
    const admin = await connectTo(cluster, 'postgres');
    return new MigratorWorkspace(cluster, admin, label);
  }

  /** A brand-new empty database: its name, URL and a client on it. */
  async database(): Promise<{ name: string; url: string; client: pg.Client }> {
    this.counter += 1;
    const name = `mig_${this.label}_${this.counter}`.replace(/[^a-z0-9_]/g, '_');
    await this.admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await this.admin.query(`CREATE DATABASE ${name}`);
    const client = await connectTo(this.cluster, name);
    this.clients.push(client);
    return { name, url: urlFor(this.cluster.url, name), client };
  }

  /** A temp folder holding a copy of a fixture migration folder (or an empty one). */
  folder(fixture?: string): string {
    this.counter += 1;
    const dir = path.join(this.root, `migrations-${this.counter}`);
    if (fixture) fs.cpSync(path.join(MIGRATOR_FIXTURES, fixture), dir, { recursive: true });
    else fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  async close(): Promise<void> {
    for (const client of this.clients) await client.end().catch(() => undefined);
    await this.admin.end().catch(() => undefined);
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** Writes a migration folder `dir/name/` with the given files (paths relative to it). */
export function writeMigration(dir: string, name: string, files: Record<string, string>): string {
  const folder = path.join(dir, name);
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(folder, file)), { recursive: true });
    fs.writeFileSync(path.join(folder, file), content);
  }
  return folder;
}

/** A simple migration creating (and dropping) one table. */
export function tableMigration(dir: string, name: string, table: string): string {
  return writeMigration(dir, name, {
    'up.sql': `CREATE TABLE public.${table} (id int) INHERITS (hectic.created_at);\n`,
    'down.sql': `DROP TABLE public.${table};\n`,
  });
}

/** Names recorded in hectic.migration, in order; [] when the table does not exist. */
export async function appliedNames(client: pg.Client): Promise<string[]> {
  const exists = await client.query("SELECT to_regclass('hectic.migration') IS NOT NULL AS present");
  if (!exists.rows[0].present) return [];
  const { rows } = await client.query('SELECT name::text AS name FROM hectic.migration ORDER BY name::text COLLATE "C"');
  return rows.map((row: { name: string }) => row.name);
}

/** True when a relation exists. */
export async function relationExists(client: pg.Client, name: string): Promise<boolean> {
  const { rows } = await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [name]);
  return Boolean(rows[0].present);
}
