/**
 * The migration writer's test bed (migration-writer*.test.ts): one cluster per test file
 * with a base database (test/fixtures/migration-writer/drift-kinds.ts, carrying the
 * hectic bundle as both sides of a real diff do), copied per test, and the proof of one
 * drift kind: the migration is generated from both sides (catalog + pg_dump), proved
 * (up then down on a copy of DB1), written to a folder, applied to another copy with
 * `migrator migrate up`, and the schemas compared again: identical.
 */
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import { loadConfig, type Config } from '../../src/base/config.js';
import { compareSchemas, schemasDiffer, type SchemaComparison } from '../../src/diff/compare-schema.js';
import { writeProvedMigration } from '../../src/diff/migration-writer/write-migration.js';
import { dumpSchema } from '../../src/diff/schema-dump.js';
import { BASE } from '../fixtures/migration-writer/drift-kinds.js';
import { runBin } from './cli.js';
import { startTestCluster, type TestCluster } from './cluster.js';
import { baseEnv, makeTempDir } from './env.js';
import { connectTo, urlFor } from './migrator.js';

export interface WriterBase {
  cluster(): TestCluster;
  admin(): pg.Client;
  config(): Config;
  /** A folder for migrations, removed with the cluster. */
  root(): string;
  /** A fresh number for folder names. */
  counter(): number;
  /** A copy of the base, optionally changed by `sql`. */
  copyOfBase(sql?: string): Promise<{ name: string; url: string }>;
  dropAll(...names: string[]): Promise<void>;
  /** Proves the migration of drift `kind` (`change` applied to the base), applies it with the migrator, and back. */
  proveKind(kind: string, change: string): Promise<void>;
}

/** What a comparison still finds different, one `-key`/`+key`/`~key` each. */
export function remaining(comparison: SchemaComparison | undefined): string[] {
  if (!comparison) return [];
  return [...comparison.onlyInDb1.map((o) => `-${o.key}`), ...comparison.onlyInDb2.map((o) => `+${o.key}`), ...comparison.changed.map((o) => `~${o.key}`)];
}

/** Registers the file's beforeAll/afterAll: the cluster and the base. */
export function useWriterBase(): WriterBase {
  let cluster: TestCluster | undefined;
  let admin: pg.Client | undefined;
  let config: Config | undefined;
  let root: string | undefined;
  let counter = 0;
  const must = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not set up (beforeAll failed)`);
    return value;
  };

  beforeAll(async () => {
    cluster = await startTestCluster();
    admin = await connectTo(cluster, 'postgres');
    // The fixture's tables do not inherit hectic.created_at: exempt their schemas, for every session.
    await admin.query("ALTER ROLE CURRENT_USER SET hectic.inheritance_extra_excluded_schemas = 'app,audit'");
    config = loadConfig(baseEnv(), process.cwd());
    root = makeTempDir('db-tool-writer-');
    // The base carries the hectic bundle, as both sides of a real diff do (migrator init).
    await admin.query('CREATE DATABASE writer_base');
    const base = await connectTo(cluster, 'writer_base');
    await base.query(BASE);
    await base.end();
    const init = await runBin('migrator', ['-u', urlFor(cluster.url, 'writer_base'), 'init']);
    if (init.code !== 0) throw new Error(`migrator init failed: ${init.stderr}`);
  }, 120_000);

  afterAll(async () => {
    await admin?.end().catch(() => undefined);
    await cluster?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  const bed: WriterBase = {
    cluster: () => must(cluster, 'the cluster'),
    admin: () => must(admin, 'the admin connection'),
    config: () => must(config, 'the config'),
    root: () => must(root, 'the folder'),
    counter: () => counter,
    async copyOfBase(sql) {
      counter += 1;
      const name = `writer_${counter}`;
      await bed.admin().query(`CREATE DATABASE ${name} TEMPLATE writer_base`);
      if (sql) {
        const client = await connectTo(bed.cluster(), name);
        try {
          await client.query(sql);
        } finally {
          await client.end();
        }
      }
      return { name, url: urlFor(bed.cluster().url, name) };
    },
    async dropAll(...names) {
      for (const name of names) await bed.admin().query(`DROP DATABASE IF EXISTS ${name}`);
    },
    async proveKind(kind, change) {
      const config = bed.config();
      const db1 = await bed.copyOfBase();
      const db2 = await bed.copyOfBase(change);
      const applied = await bed.copyOfBase();
      const migrationDir = path.join(bed.root(), `migrations-${counter}`);
      try {
        const [schema1, schema2] = await Promise.all([dumpSchema(config, db1.url), dumpSchema(config, db2.url)]);
        expect(schemasDiffer(compareSchemas(schema1, schema2))).toBe(true);
        const outcome = await writeProvedMigration(config, { url: db1.url, schema: schema1 }, { url: db2.url, schema: schema2 }, { name: 'drift', migrationDir }, 'test');
        expect({ kind, up: outcome.proof.up.error ?? remaining(outcome.proof.up.remaining), down: outcome.proof.down?.error ?? remaining(outcome.proof.down?.remaining) }).toEqual({ kind, up: [], down: [] });
        expect(outcome.proof.proved).toBe(true);
        expect(outcome.folder).toBeDefined();
        expect(fs.readdirSync(outcome.folder ?? '').sort()).toEqual(['down.sql', 'up.sql']);

        const up = await runBin('migrator', ['-u', applied.url, '-d', migrationDir, 'migrate', 'up']);
        expect(up.stderr).not.toMatch(/ERROR/);
        expect(up.code).toBe(0);
        expect(remaining(compareSchemas(await dumpSchema(config, applied.url), schema2))).toEqual([]);
        if (!outcome.proof.down?.needsManualSteps) {
          const down = await runBin('migrator', ['-u', applied.url, '-d', migrationDir, 'migrate', 'down']);
          expect(down.code).toBe(0);
          expect(remaining(compareSchemas(await dumpSchema(config, applied.url), schema1))).toEqual([]);
        }
      } finally {
        await bed.dropAll(db1.name, db2.name, applied.name);
      }
    },
  };
  return bed;
}
