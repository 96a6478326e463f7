import { spawn } from 'node:child_process';
import path from 'node:path';
import { BIN, baseEnv } from './env.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
}

/** Runs a program with the test base environment; never throws on a non-zero exit. */
export function runProgram(program: string, args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: baseEnv(options.env),
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    if (options.input !== undefined) child.stdin?.end(options.input);
    // A last resort against a hung program, not a speed check: generous, since CI runs suites side by side.
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 150_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

/** A warning Node prints on its own (`(node:123) MaxListenersExceededWarning: …`): a bug of ours, never output. */
const NODE_WARNING = /^\(node:\d+\) (?:\[\w+\] )?\w*Warning: .*$/m;

/**
 * Runs one of our executables from bin/. Fails when Node printed a warning of its own:
 * every test that runs a command checks that too.
 */
export async function runBin(name: 'database' | 'postgres-init' | 'postgres-cleanup' | 'migrator', args: string[], options: CliOptions = {}): Promise<CliResult> {
  const result = await runProgram(path.join(BIN, name), args, options);
  const warning = NODE_WARNING.exec(result.stderr);
  if (warning) throw new Error(`${name} ${args.join(' ')}: Node printed a warning: ${warning[0]}`);
  return result;
}

/** Parses `export NAME='value'` lines (postgres-init --env). */
export function parseExports(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match?.[1] || match[2] === undefined) continue;
    let value = match[2];
    if (value.startsWith("'")) value = value.slice(1, -1).replace(/'\\''/g, "'");
    vars[match[1]] = value;
  }
  return vars;
}
