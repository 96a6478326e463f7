/** HECTIC_INHERITANCE_EXCLUDED_SCHEMAS: read once, written into every cluster's managed config block. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/base/config.js';
import { clusterLayout } from '../src/cluster/cluster-layout.js';
import { managedBlock, writeManagedBlock } from '../src/cluster/server-config.js';

function managedConf(env: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'db-tool-conf-'));
  try {
    const config = loadConfig({ PG_WORKING_DIR: dir, ...env });
    const layout = clusterLayout(config);
    fs.mkdirSync(layout.dataDir, { recursive: true });
    const file = path.join(layout.dataDir, 'postgresql.conf');
    fs.writeFileSync(file, "# initdb's settings\n");
    const uid = process.getuid?.() ?? 0;
    writeManagedBlock(dir, file, managedBlock(config, layout), uid);
    writeManagedBlock(dir, file, managedBlock(config, layout), uid); // rewritten on every start, never duplicated
    return fs.readFileSync(path.join(layout.dataDir, 'postgresql.conf'), 'utf8');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('HECTIC_INHERITANCE_EXCLUDED_SCHEMAS', () => {
  it('is unset by default, and then nothing is written', () => {
    expect(loadConfig({}).inheritanceExcludedSchemas).toBeUndefined();
    expect(managedConf({})).not.toContain('hectic.inheritance_extra_excluded_schemas');
  });

  it('is written once, quoted, into the managed block', () => {
    expect(loadConfig({ HECTIC_INHERITANCE_EXCLUDED_SCHEMAS: '*' }).inheritanceExcludedSchemas).toBe('*');
    const conf = managedConf({ HECTIC_INHERITANCE_EXCLUDED_SCHEMAS: "legacy, it's" });
    expect(conf.match(/hectic\.inheritance_extra_excluded_schemas/g)).toHaveLength(1);
    expect(conf).toContain("hectic.inheritance_extra_excluded_schemas = 'legacy, it''s'");
  });

  it('must be one line', () => {
    expect(() => loadConfig({ HECTIC_INHERITANCE_EXCLUDED_SCHEMAS: 'a\nport = 1' })).toThrow(/one line/);
  });
});
