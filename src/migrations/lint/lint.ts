/**
 * `migrator lint` (SPEC §17): each migration's up file parsed by PostgreSQL's own parser,
 * the rules run over its statements in order, and `-- db-tool: allow RULE reason`
 * comments applied. An allow comment right before a statement, inside it, or after it on
 * its last line silences one finding of RULE on that statement; it needs a reason.
 */
import { analyzeMigration } from './analyze.js';
import { emptyKnowledge, type AnalyzedStatement, type SchemaKnowledge } from './walk-state.js';
import { RULES, RULE_IDS, type RuleId } from './rules.js';
import { loadParser, parseSqlFile, type SqlStatement } from './sql-parser.js';
import { fileRunsOutsideTransaction } from '../migration-directives.js';

/** A migration to lint: its name and up file. */
export interface LintSource {
  name: string;
  upFile: string;
}

export interface LintFinding {
  migration: string;
  file: string;
  line: number;
  rule: RuleId;
  message: string;
  why: string;
  safe: string;
  /** The statement's text. */
  statement: string;
}

export interface SilencedFinding extends LintFinding {
  reason: string;
}

export interface LintReport {
  /** The migrations linted, in order. */
  migrations: string[];
  findings: LintFinding[];
  silenced: SilencedFinding[];
}

export interface LintOptions {
  /** Schema knowledge before the first migration (column types, enums), from the database. */
  knowledge?: SchemaKnowledge;
  /** Migrations read before the linted ones, for knowledge only (no findings). */
  history?: readonly LintSource[];
}

const ALLOW = /^--\s*db-tool:\s*allow\b\s*(\S*)\s*(.*?)\s*$/;

interface Allow {
  rule: string;
  reason: string;
  line: number;
}

function allowsOf(statement: SqlStatement): Allow[] {
  return statement.comments.flatMap((comment) => {
    const match = ALLOW.exec(comment.text.trim());
    return match ? [{ rule: match[1] ?? '', reason: match[2] ?? '', line: comment.line }] : [];
  });
}

function finding(migration: string, statement: SqlStatement, rule: RuleId, message: string, safe?: string, line = statement.line): LintFinding {
  return { migration, file: statement.file, line, rule, message, why: RULES[rule].why, safe: safe ?? RULES[rule].safe, statement: statement.text };
}

/** Applies a statement's allow comments to its findings. */
function settle(migration: string, analyzed: AnalyzedStatement, report: LintReport): void {
  const { statement } = analyzed;
  const open = [...analyzed.findings];
  for (const allow of allowsOf(statement)) {
    if (!(RULE_IDS as readonly string[]).includes(allow.rule) || !allow.reason) {
      const problem = !allow.rule ? 'names no rule' : !(RULE_IDS as readonly string[]).includes(allow.rule) ? `names an unknown rule '${allow.rule}'` : `gives no reason for allowing ${allow.rule}`;
      report.findings.push(finding(migration, statement, 'allow-reason', `the allow comment ${problem}`, undefined, allow.line));
      continue;
    }
    const index = open.findIndex((raw) => raw.rule === allow.rule);
    if (index < 0) continue;
    const [raw] = open.splice(index, 1);
    if (raw) report.silenced.push({ ...finding(migration, statement, raw.rule, raw.message, raw.safe), reason: allow.reason });
  }
  for (const raw of open) report.findings.push(finding(migration, statement, raw.rule, raw.message, raw.safe));
}

/** What each statement of one migration claims and finds (the rehearsal corpus checks the claims). */
export async function analyzeFile(file: string, knowledge: SchemaKnowledge = emptyKnowledge()): Promise<AnalyzedStatement[]> {
  const parsed = parseSqlFile(await loadParser(), file);
  return analyzeMigration(parsed.statements, fileRunsOutsideTransaction(file), knowledge);
}

/** Lints migrations in order; the report lists every finding, and those allow comments silenced. */
export async function lintMigrations(sources: readonly LintSource[], options: LintOptions = {}): Promise<LintReport> {
  const pg = await loadParser();
  const knowledge = options.knowledge ?? emptyKnowledge();
  for (const source of options.history ?? []) {
    analyzeMigration(parseSqlFile(pg, source.upFile).statements, fileRunsOutsideTransaction(source.upFile), knowledge);
  }
  const report: LintReport = { migrations: sources.map((source) => source.name), findings: [], silenced: [] };
  for (const source of sources) {
    const parsed = parseSqlFile(pg, source.upFile);
    for (const error of parsed.errors) {
      report.findings.push({ migration: source.name, file: error.file, line: error.line, rule: 'syntax-error', message: error.message, why: RULES['syntax-error'].why, safe: RULES['syntax-error'].safe, statement: '' });
    }
    for (const analyzed of analyzeMigration(parsed.statements, fileRunsOutsideTransaction(source.upFile), knowledge)) settle(source.name, analyzed, report);
  }
  return report;
}
