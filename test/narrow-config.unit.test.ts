/**
 * The lint rule that keeps core's signatures narrow (issue 21 §3): below src/commands/,
 * no function takes the whole `Config` and no options field carries it.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import narrowConfig from '../eslint/narrow-config.js';

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const tester = new RuleTester({ languageOptions: { parser: tseslint.parser, ecmaVersion: 'latest', sourceType: 'module' } });
const inSrc = (file: string): string => path.resolve('src', file);
const importConfig = "import type { Config } from '../base/config.js';\n";

tester.run('house/narrow-config', narrowConfig, {
  valid: [
    { filename: inSrc('cluster/x.ts'), code: `${importConfig}export function f(config: Pick<Config, 'env'>): void {}` },
    { filename: inSrc('cluster/x.ts'), code: `${importConfig}type Narrow = Pick<Config, 'env' | 'path'>;\nexport function f(config: Narrow): void {}` },
    { filename: inSrc('cluster/x.ts'), code: `${importConfig}export function f(env: Config['env']): void {}` },
    { filename: inSrc('cluster/x.ts'), code: `${importConfig}export function load(): Config { return undefined as never; }` },
    { filename: inSrc('commands/x.ts'), code: `${importConfig}export function xCommand(config: Config): void {}` },
    { filename: inSrc('cli/run.ts'), code: `${importConfig}interface CliContext { config: Config }\nfunction f(config: Config): void {}` },
    { filename: path.resolve('test/x.test.ts'), code: `${importConfig}function f(config: Config): void {}` },
    // A type named Config that is not the configuration's.
    { filename: inSrc('pg/x.ts'), code: "import type { Config } from './driver.js';\nfunction f(config: Config): void {}" },
    {
      filename: inSrc('base/config.ts'),
      code: 'export interface Config { env: string }\nexport function newProjectConfig(config: Config): Config { return config; }',
      options: [{ allow: [{ function: 'newProjectConfig', reason: 'derives a whole Config' }] }],
    },
  ],
  invalid: [
    {
      filename: inSrc('cluster/x.ts'),
      code: `${importConfig}export function startThing(config: Config, dir: string): void {}`,
      errors: [{ message: /^startThing: config is the whole Config; declare the settings it uses/ }],
    },
    { filename: inSrc('deploy/x.ts'), code: `${importConfig}function helper(config: Config = load()): void {}`, errors: [{ message: /^helper:/ }] },
    { filename: inSrc('diff/x.ts'), code: `${importConfig}export const run = async (log: unknown, config: Config) => log;`, errors: [{ message: /^run: config is the whole Config/ }] },
    { filename: inSrc('sqltest/x.ts'), code: `${importConfig}class Copies { dump(config: Config): void {} }`, errors: [{ message: /^dump:/ }] },
    { filename: inSrc('sqltest/x.ts'), code: `${importConfig}interface Copies { dump(config: Config): void }`, errors: [{ message: /^dump:/ }] },
    { filename: inSrc('sqltest/x.ts'), code: `${importConfig}export interface Options { url: string; config: Config }`, errors: [{ message: /^config: an options field that is the whole Config/ }] },
    { filename: inSrc('branch/x.ts'), code: `${importConfig}type Work = (config: Config) => void;`, errors: 1 },
    { filename: inSrc('branch/x.ts'), code: "import type { Config as Settings } from '../base/config.js';\nexport function f({ env }: Settings): void {}", errors: [{ message: /^f: a parameter is the whole Config/ }] },
    { filename: inSrc('base/x.ts'), code: "import { type Config } from './config.js';\nexport function f(...configs: Config): void {}", errors: 1 },
    // The allow-list names functions, one by one.
    {
      filename: inSrc('base/config.ts'),
      code: 'export interface Config { env: string }\nexport function otherConfig(config: Config): Config { return config; }',
      options: [{ allow: [{ function: 'newProjectConfig', reason: 'derives a whole Config' }] }],
      errors: [{ message: /^otherConfig:/ }],
    },
  ],
});

describe("the project's eslint config", () => {
  const houseRules = async (file: string, code: string): Promise<string[]> => {
    const { ESLint } = await import('eslint');
    const [result] = await new ESLint().lintText(code, { filePath: path.resolve(file) });
    return (result?.messages ?? []).map((message) => message.ruleId ?? '').filter((rule) => rule.startsWith('house/'));
  };
  const code = "import type { Config } from '../base/config.js';\nexport function probe(config: Config): string {\n  return config.cwd;\n}\n";

  it('refuses the whole Config in core, and allows it in src/commands and src/cli', async () => {
    expect(await houseRules('src/cluster/narrow-probe.ts', code)).toEqual(['house/narrow-config']);
    expect(await houseRules('src/commands/narrow-probe.ts', code)).toEqual([]);
    expect(await houseRules('src/cli/narrow-probe.ts', code)).toEqual([]);
  });

  it('allows newProjectConfig, with its reason, and nothing else in src/base/config.ts', async () => {
    const { ESLint } = await import('eslint');
    const eslint = new ESLint();
    const config = await eslint.calculateConfigForFile(path.resolve('src/base/config.ts'));
    const [, options] = config.rules['house/narrow-config'] as [unknown, { allow: Array<{ function: string; reason: string }> }];
    expect(options.allow.map((entry) => entry.function)).toEqual(['newProjectConfig']);
    for (const entry of options.allow) expect(entry.reason.length).toBeGreaterThan(20);
  });
});
