/**
 * `migrator lint`'s rules over migrations written to a temporary folder, parsed by
 * PostgreSQL's own parser (libpg-query), and the coercion knowledge lint shares with
 * diff's migration writer. What PostgreSQL really does with these statements on a table
 * with rows is checked by test/migrator-rehearse.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lintMigrations, type LintReport } from '../src/migrations/lint/lint.js';
import { emptyKnowledge } from '../src/migrations/lint/walk-state.js';
import { parseTypeText, typeChange } from '../src/pg/type-coercion.js';
import { diffTable } from '../src/diff/migration-writer/table-diff.js';
import type { TableInfo } from '../src/diff/migration-writer/catalog.js';
import { lintSarif } from '../src/cli/render/lint-output.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'db-tool-lint-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let counter = 0;
/** Writes a migration folder and returns its up file. */
function migration(sql: string, files: Record<string, string> = {}): { name: string; upFile: string } {
  counter += 1;
  const name = `2024010100${String(counter).padStart(4, '0')}-case`;
  const folder = path.join(dir, name);
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, 'up.sql'), sql);
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(folder, file), text);
  return { name, upFile: path.join(folder, 'up.sql') };
}

/** The rules flagged on one migration, as `line rule`. */
async function flagged(sql: string, knowledge = emptyKnowledge()): Promise<string[]> {
  const report = await lintMigrations([migration(sql)], { knowledge });
  return report.findings.map((finding) => `${finding.line} ${finding.rule}`);
}

const TIMEOUT = "SET lock_timeout = '2s';\n";

describe('migrator lint rules', () => {
  it('flags a type change that rewrites, from the column type it knows, and not varchar → text', async () => {
    const knowledge = emptyKnowledge();
    knowledge.columns.set('account.name', parseTypeText('character varying(20)'));
    knowledge.columns.set('account.score', parseTypeText('integer'));
    knowledge.columns.set('account.code', parseTypeText('character varying(50)'));
    const sql = `${TIMEOUT}ALTER TABLE account ALTER COLUMN name TYPE text;\nALTER TABLE account ALTER COLUMN code TYPE varchar(80);\nALTER TABLE account ALTER COLUMN score TYPE bigint;\nALTER TABLE account ALTER COLUMN code TYPE varchar(10);\n`;
    expect(await flagged(sql, knowledge)).toEqual(['4 table-rewrite', '5 table-rewrite', '5 data-loss']);
  });

  it('reads column types from CREATE TABLE earlier in the migrations it lints', async () => {
    const report = await lintMigrations([migration(`CREATE TABLE t (a varchar(5), b int);`), migration(`${TIMEOUT}ALTER TABLE t ALTER COLUMN a TYPE varchar(9);\nALTER TABLE t ALTER COLUMN b TYPE text;`)]);
    expect(report.findings.map((finding) => `${finding.line} ${finding.rule}`)).toEqual(['3 table-rewrite']);
  });

  it('flags ADD COLUMN with a volatile default, serial or identity, and SET LOGGED/UNLOGGED, but not a constant or now()', async () => {
    const sql = `${TIMEOUT}ALTER TABLE t ADD COLUMN a uuid DEFAULT gen_random_uuid();\nALTER TABLE t ADD COLUMN b int DEFAULT 0;\nALTER TABLE t ADD COLUMN c timestamptz DEFAULT now();\nALTER TABLE t ADD COLUMN d bigserial;\nALTER TABLE t SET UNLOGGED;\nALTER TABLE t SET LOGGED;\n`;
    expect(await flagged(sql)).toEqual(['2 table-rewrite', '5 table-rewrite', '6 table-rewrite', '7 table-rewrite']);
  });

  it('flags ACCESS EXCLUSIVE without lock_timeout once per migration, at the first statement', async () => {
    expect(await flagged(`CREATE TABLE n (a int);\nALTER TABLE n ADD COLUMN b int;\nALTER TABLE t ADD COLUMN b int;\nALTER TABLE t ADD COLUMN c int;\n`)).toEqual(['3 lock-timeout']);
    expect(await flagged(`SET lock_timeout = 0;\nALTER TABLE t ADD COLUMN b int;\n`)).toEqual(['2 lock-timeout']);
    expect(await flagged(`SELECT set_config('lock_timeout', '1s', true);\nALTER TABLE t ADD COLUMN b int;\n`)).toEqual([]);
    expect(await flagged(`SET LOCAL lock_timeout = '1s';\nALTER TABLE t ADD COLUMN b int;\n`)).toEqual([]);
    // Outside a transaction SET LOCAL lasts for nothing.
    expect(await flagged(`-- db-tool: no-transaction\nSET LOCAL lock_timeout = '1s';\nALTER TABLE t ADD COLUMN b int;\n`)).toEqual(['3 lock-timeout']);
  });

  it('flags constraints without NOT VALID, and SET NOT NULL unless a validated CHECK proves it', async () => {
    const sql = `${TIMEOUT}ALTER TABLE t ADD CONSTRAINT t_fk FOREIGN KEY (u) REFERENCES u (id);\nALTER TABLE t ADD CONSTRAINT t_pos CHECK (n > 0);\nALTER TABLE t ADD CONSTRAINT t_ok CHECK (n > 0) NOT VALID;\nALTER TABLE t ALTER COLUMN n SET NOT NULL;\nALTER TABLE t ADD CONSTRAINT t_m CHECK (m IS NOT NULL) NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT t_m;\nALTER TABLE t ALTER COLUMN m SET NOT NULL;\n`;
    expect(await flagged(sql)).toEqual(['2 constraint-not-valid', '3 constraint-not-valid', '5 set-not-null']);
  });

  it('flags indexes without CONCURRENTLY on existing tables only, and CONCURRENTLY inside a transaction', async () => {
    expect(await flagged(`CREATE TABLE n (a int);\nCREATE INDEX n_a ON n (a);\nCREATE INDEX t_a ON t (a);\nDROP INDEX n_a;\n`)).toEqual(['3 index-concurrently']);
    expect(await flagged(`CREATE INDEX CONCURRENTLY t_a ON t (a);\n`)).toEqual(['1 concurrently-in-transaction']);
    expect(await flagged(`-- db-tool: no-transaction\nCREATE INDEX CONCURRENTLY t_a ON t (a);\nDROP INDEX CONCURRENTLY t_b;\n`)).toEqual([]);
    expect(await flagged(`${TIMEOUT}ALTER TABLE t ADD PRIMARY KEY (id);\nALTER TABLE t ADD CONSTRAINT t_u UNIQUE USING INDEX t_u_idx;\n`)).toEqual(['2 index-concurrently']);
  });

  it('flags data loss, renames, enum recreation and a COMMIT in a transactional migration', async () => {
    const knowledge = emptyKnowledge();
    knowledge.enums.set('mood', ['happy', 'sad', 'ok']);
    const sql = `${TIMEOUT}DROP TABLE t;\nALTER TABLE u DROP COLUMN c;\nALTER TABLE u RENAME COLUMN a TO b;\nALTER TABLE u RENAME TO v;\nDROP TYPE mood;\nCREATE TYPE mood AS ENUM ('happy', 'sad');\nCOMMIT;\nTRUNCATE w;\n`;
    const report = await lintMigrations([migration(sql)], { knowledge });
    expect(report.findings.map((finding) => `${finding.line} ${finding.rule}`)).toEqual(['2 data-loss', '3 data-loss', '4 rename', '5 rename', '6 enum-value-removal', '8 transaction-control', '9 data-loss']);
    expect(report.findings[4]?.message).toContain("'ok'");
  });

  it('gives each finding its line, why and safe form; lines count bytes of multi-byte text right', async () => {
    const report = await lintMigrations([migration(`-- Ünïcödé comment: ½\nSELECT 'é—ü';\n/* a\n   block */\nALTER TABLE t ALTER COLUMN n SET NOT NULL;\n`)]);
    const finding = report.findings.find((item) => item.rule === 'set-not-null');
    expect(finding).toMatchObject({ line: 5, statement: 'ALTER TABLE t ALTER COLUMN n SET NOT NULL' });
    expect(finding?.safe).toContain('CHECK (n IS NOT NULL) NOT VALID');
    expect(finding?.why).toMatch(/scans the whole table/);
  });

  it('silences one finding per allow comment with a reason; one without a reason is a finding itself', async () => {
    const sql = `${TIMEOUT}-- db-tool: allow data-loss the table was emptied last release\nDROP TABLE t;\nDROP TABLE u; -- db-tool: allow data-loss u was never used\nDROP TABLE v;\n-- db-tool: allow data-loss\nDROP TABLE w;\n-- db-tool: allow no-such-rule because\nDROP TABLE x;\n`;
    const report = await lintMigrations([migration(sql)]);
    expect(report.silenced.map((finding) => `${finding.line} ${finding.rule} ${finding.reason}`)).toEqual(['3 data-loss the table was emptied last release', '4 data-loss u was never used']);
    expect(report.findings.map((finding) => `${finding.line} ${finding.rule}`)).toEqual(['5 data-loss', '6 allow-reason', '7 data-loss', '8 allow-reason', '9 data-loss']);
  });

  it('follows \\ir into sibling files, skips other psql commands, and reports a syntax error at its line', async () => {
    const up = migration(`\\set ON_ERROR_STOP on\n${TIMEOUT}\\ir more.sql\nALTER TABLE t RENAME COLUMN a TO b;\n`, { 'more.sql': `\n\nDROP TABLE gone;\n` });
    const report = await lintMigrations([up]);
    expect(report.findings.map((finding) => `${path.basename(finding.file)}:${finding.line} ${finding.rule}`)).toEqual(['more.sql:3 data-loss', 'up.sql:4 rename']);
    const broken = await lintMigrations([migration(`SELECT 1;\n\nALTER TABLE t ADD COLUMN;\n`)]);
    expect(broken.findings.map((finding) => `${finding.line} ${finding.rule}`)).toEqual(['3 syntax-error']);
  });

  it('renders SARIF 2.1.0 with the rules and each result at its file and line', async () => {
    const report: LintReport = await lintMigrations([migration(`${TIMEOUT}DROP TABLE t;\n`)]);
    const sarif = lintSarif(report, dir) as { version: string; runs: Array<{ tool: { driver: { rules: Array<{ id: string }> } }; results: Array<{ ruleId: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }> }> }> };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0]?.tool.driver.rules.map((rule) => rule.id)).toContain('data-loss');
    expect(sarif.runs[0]?.results[0]).toMatchObject({ ruleId: 'data-loss', locations: [{ physicalLocation: { region: { startLine: 2 } } }] });
    expect(sarif.runs[0]?.results[0]?.locations[0]?.physicalLocation.artifactLocation.uri).toMatch(/^2024\d+-case\/up\.sql$/);
  });

  it('lints 200 migrations quickly enough to load the parser once', async () => {
    const sources = Array.from({ length: 200 }, () => migration(`${TIMEOUT}ALTER TABLE t ADD COLUMN c int;\nCREATE TABLE x (a int);\n`));
    const report = await lintMigrations(sources);
    expect(report.migrations).toHaveLength(200);
    expect(report.findings).toEqual([]);
  });
});

describe('coercion knowledge shared with the migration writer', () => {
  it('follows PostgreSQL: binary-coercible and proven typmod changes rewrite nothing', () => {
    const change = (from: string, to: string) => typeChange(parseTypeText(from), parseTypeText(to));
    expect(change('character varying(20)', 'text')).toMatchObject({ rewrites: false, mayLoseData: false });
    expect(change('character varying(20)', 'character varying(40)')).toMatchObject({ rewrites: false, mayLoseData: false });
    expect(change('character varying(40)', 'character varying(20)')).toMatchObject({ rewrites: true, mayLoseData: true });
    expect(change('text', 'character varying')).toMatchObject({ rewrites: false });
    expect(change('text', 'character varying(5)')).toMatchObject({ rewrites: true, mayLoseData: true });
    expect(change('numeric(10,2)', 'numeric(12,2)')).toMatchObject({ rewrites: false });
    expect(change('numeric(10,2)', 'numeric(10,1)')).toMatchObject({ rewrites: true, mayLoseData: true });
    expect(change('timestamp(3) without time zone', 'timestamp without time zone')).toMatchObject({ rewrites: false });
    expect(change('integer', 'bigint')).toMatchObject({ rewrites: true, mayLoseData: false });
    expect(change('bigint', 'integer')).toMatchObject({ rewrites: true, mayLoseData: true });
    expect(change('cidr', 'inet')).toMatchObject({ rewrites: false });
  });

  it('the writer marks varchar → text neither a rewrite nor a loss, int → bigint a rewrite', () => {
    const table = (type: string): TableInfo =>
      ({ name: 'app.t', sqlName: 'app.t', kind: 'r', rowEstimate: 10, options: [], checks: [], columns: [{ name: 'c', type, collation: null, default: null, generated: null, identity: '', notNull: false }] }) as unknown as TableInfo;
    const context = { separateDefaults: new Set<string>(), separateChecks: new Set<string>() };
    const widened = diffTable(table('character varying(20)'), table('text'), context).alters[0];
    expect(widened?.hazards.join(' ')).not.toMatch(/rewrites|lose/);
    expect(widened?.hazards.join(' ')).toMatch(/ACCESS EXCLUSIVE/);
    expect(diffTable(table('integer'), table('bigint'), context).alters[0]?.hazards[0]).toMatch(/^rewrites app\.t/);
  });
});
