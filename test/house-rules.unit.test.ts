/**
 * The lint rules of one way through the layers (SPEC §15): `*Command` functions live in
 * src/commands/ only, and the CLI's programs reach core through src/commands/.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import commandEntries from '../eslint/command-entries.js';
import cliImports from '../eslint/cli-imports.js';

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const tester = new RuleTester({ languageOptions: { parser: tseslint.parser, ecmaVersion: 'latest', sourceType: 'module' } });
const inSrc = (file: string): string => path.resolve('src', file);

tester.run('house/command-entries', commandEntries, {
  valid: [
    { filename: inSrc('commands/patch.ts'), code: 'export function patchCommand() {}' },
    { filename: inSrc('commands/patch.ts'), code: 'export const patchCommand = () => 1;' },
    { filename: inSrc('deploy/patch.ts'), code: 'export function patchTarget() {}' },
    { filename: inSrc('deploy/patch.ts'), code: 'function patchCommand() {}\nexport function patchTarget() { return patchCommand(); }' },
    { filename: inSrc('deploy/patch.ts'), code: "export const defaultCommand = 'psql';" },
    { filename: inSrc('cli/run.ts'), code: 'export function configureCommand() {}', options: [{ allow: ['^configureCommand$'] }] },
    { filename: inSrc('cli/x.ts'), code: 'export function registerScaffoldCommand() {}', options: [{ allow: ['^register\\w*Command$'] }] },
    { filename: path.resolve('test/x.test.ts'), code: 'export function fakeCommand() {}' },
  ],
  invalid: [
    { filename: inSrc('migrations/migrate.ts'), code: 'export async function migrateCommand() {}', errors: [{ message: /migrateCommand: \*Command functions .* live in src\/commands\// }] },
    { filename: inSrc('deploy/patch.ts'), code: 'export const patchCommand = async () => 1;', errors: 1 },
    { filename: inSrc('deploy/patch.ts'), code: 'function patch() {}\nexport { patch as patchCommand };', errors: [{ message: /^patchCommand:/ }] },
    { filename: inSrc('deploy/patch.ts'), code: 'const patchCommand = function () {};\nexport { patchCommand };', errors: 1 },
    { filename: inSrc('cli/x.ts'), code: 'export function statusCommand() {}', options: [{ allow: ['^register\\w*Command$'] }], errors: 1 },
  ],
});

tester.run('house/cli-imports', cliImports, {
  valid: [
    { filename: inSrc('cli/migrator-program.ts'), code: "import { migrateCommand } from '../commands/migrate.js';" },
    { filename: inSrc('cli/migrator-program.ts'), code: "const m = await import('../commands/migrate.js');" },
    { filename: inSrc('cli/migrator-program.ts'), code: "import { BadInputError } from '../base/errors.js';\nimport { json } from './output.js';" },
    { filename: inSrc('cli/migrator-program.ts'), code: "import type { MigrateResult } from '../migrations/migrate.js';" },
    { filename: inSrc('cli/migrator-program.ts'), code: "import { type MigrationRequest } from '../migrations/migration-plan.js';" },
    { filename: inSrc('cli/database/patch.ts'), code: "export type { PatchResult } from '../../deploy/patch.js';" },
    { filename: inSrc('cli/migrator-program.ts'), code: "import { Command } from 'commander';" },
  ],
  invalid: [
    { filename: inSrc('cli/migrator-program.ts'), code: "import { runMigrations } from '../migrations/migrate.js';", errors: [{ message: 'the CLI reaches src/migrations/ through src/commands/ (import a command, or only a type)' }] },
    { filename: inSrc('cli/migrator-program.ts'), code: "const m = await import('../migrations/migrate.js');", errors: 1 },
    { filename: inSrc('cli/migrator-program.ts'), code: "import { parseCount, type MigrationRequest } from '../migrations/migration-plan.js';", errors: 1 },
    { filename: inSrc('cli/database/deploy-commands.ts'), code: "const { patchTarget } = await import('../../deploy/patch.js');", errors: [{ message: /src\/deploy\// }] },
    { filename: inSrc('cli/postgres-cleanup-program.ts'), code: "export { stopCluster } from '../cluster/cluster.js';", errors: 1 },
  ],
});

describe("the project's eslint config", () => {
  const houseRules = async (file: string, code: string): Promise<string[]> => {
    const { ESLint } = await import('eslint');
    const [result] = await new ESLint().lintText(code, { filePath: path.resolve(file) });
    return (result?.messages ?? []).map((message) => message.ruleId ?? '').filter((rule) => rule.startsWith('house/'));
  };

  it('refuses a *Command exported from core, and allows it in src/commands', async () => {
    expect(await houseRules('src/migrations/lint-probe.ts', 'export function probeCommand(): void {}\n')).toEqual(['house/command-entries']);
    expect(await houseRules('src/commands/lint-probe.ts', 'export function probeCommand(): void {}\n')).toEqual([]);
  });

  it("refuses a program's import of core, and allows the same import from a renderer", async () => {
    const code = "export const load = () => import('../migrations/migrate.js');\n";
    expect(await houseRules('src/cli/probe-program.ts', code)).toEqual(['house/cli-imports']);
    expect(await houseRules('src/cli/database/probe-commands.ts', code.replace('../', '../../'))).toEqual(['house/cli-imports']);
    expect(await houseRules('src/cli/render/probe.ts', code.replace('../', '../../'))).toEqual([]);
  });
});
