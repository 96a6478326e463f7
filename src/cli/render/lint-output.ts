/** `migrator lint`'s report as text, JSON, or SARIF 2.1.0 (for CI code annotations). */
import path from 'node:path';
import type { LintFinding, LintReport } from '../../migrations/lint/lint.js';
import { RULES, RULE_IDS } from '../../migrations/lint/rules.js';
import { VERSION } from '../version.js';

export const LINT_FORMATS = ['text', 'json', 'sarif'] as const;
export type LintFormat = (typeof LINT_FORMATS)[number];

function shown(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

/** `FILE:LINE: RULE: message`, then why and the safe form, one finding after the other. */
export function formatLintText(report: LintReport, cwd: string): string {
  return report.findings.map((finding) => `${shown(finding.file, cwd)}:${finding.line}: ${finding.rule}: ${finding.message}\n  why: ${finding.why}\n  safe: ${finding.safe}\n`).join('');
}

/** The one-line summary (stderr). */
export function lintSummary(report: LintReport): string {
  const count = report.migrations.length;
  const migrations = `${count} migration${count === 1 ? '' : 's'}`;
  const silenced = report.silenced.length > 0 ? ` (${report.silenced.length} allowed by comment)` : '';
  if (report.findings.length === 0) return `lint: ${migrations}, nothing flagged${silenced}`;
  return `lint: ${report.findings.length} finding${report.findings.length === 1 ? '' : 's'} in ${migrations}${silenced}`;
}

function jsonFinding(finding: LintFinding, cwd: string): Record<string, unknown> {
  return { ...finding, file: shown(finding.file, cwd) };
}

export function lintJson(report: LintReport, cwd: string): unknown {
  return {
    ok: report.findings.length === 0,
    migrations: report.migrations,
    findings: report.findings.map((finding) => jsonFinding(finding, cwd)),
    silenced: report.silenced.map((finding) => jsonFinding(finding, cwd)),
  };
}

/** SARIF 2.1.0: one run, the rules as the tool's rules, each finding a result at FILE:LINE. */
export function lintSarif(report: LintReport, cwd: string): unknown {
  const location = (finding: LintFinding) => ({
    physicalLocation: { artifactLocation: { uri: shown(finding.file, cwd).split(path.sep).join('/') }, region: { startLine: Math.max(1, finding.line) } },
  });
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'db-tool migrator lint',
            version: VERSION,
            rules: RULE_IDS.map((id) => ({
              id,
              shortDescription: { text: RULES[id].title },
              fullDescription: { text: RULES[id].why },
              help: { text: `Safe form: ${RULES[id].safe}` },
              defaultConfiguration: { level: 'error' },
            })),
          },
        },
        results: [
          ...report.findings.map((finding) => ({
            ruleId: finding.rule,
            ruleIndex: RULE_IDS.indexOf(finding.rule),
            level: 'error',
            message: { text: `${finding.message}. Why: ${finding.why}. Safe form: ${finding.safe}` },
            locations: [location(finding)],
          })),
          ...report.silenced.map((finding) => ({
            ruleId: finding.rule,
            ruleIndex: RULE_IDS.indexOf(finding.rule),
            level: 'error',
            message: { text: finding.message },
            locations: [location(finding)],
            suppressions: [{ kind: 'inSource', justification: finding.reason }],
          })),
        ],
      },
    ],
  };
}
