/**
 * `--env-file` files: dotenv files read deliberately, whose values count as if exported
 * (config.ts lays them over the real environment). A message names the file and line,
 * never the line's text: it may hold a secret.
 */
import path from 'node:path';
import { parseDotenv } from './dotenv.js';
import { MissingInputError } from './errors.js';
import { readSmallTextFile } from './small-file.js';
import { shown } from './text.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isShellIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}

/** The largest dotenv file we read: secrets and settings, never megabytes. */
export const DOTENV_MAX_BYTES = 1024 * 1024;

/** A variable's value and, when an `--env-file` set it, where (a dotenv line is never echoed). */
interface EnvFileValue {
  value: string;
  origin: string;
}

/**
 * The variables of a dotenv file read deliberately (`--env-file`): only a regular file of
 * at most DOTENV_MAX_BYTES. Unreadable, or a line that is not `NAME=VALUE` with NAME a
 * variable name → exit 3 naming the file and line.
 */
function readEnvFile(file: string): Map<string, EnvFileValue> {
  const read = readSmallTextFile(file, DOTENV_MAX_BYTES);
  if (!read.ok) throw new MissingInputError(`--env-file ${shown(file)}: cannot read it (${read.reason})`);
  const parsed = parseDotenv(read.text);
  if (!parsed.ok) throw new MissingInputError(`--env-file ${shown(file)}: line ${parsed.line}: ${parsed.reason}`);
  const bad = parsed.entries.find((entry) => !isShellIdentifier(entry.key));
  if (bad) throw new MissingInputError(`--env-file ${shown(file)}: line ${bad.line}: the name before "=" is not a variable name`);
  return new Map(parsed.entries.map((entry) => [entry.key, { value: entry.value, origin: `--env-file ${shown(file)}, line ${entry.line}` }]));
}

/** The real environment with the `--env-file` values laid over it, and where those values came from. */
export function withEnvFiles(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  files: readonly string[],
): { env: Readonly<Record<string, string | undefined>>; origins: Map<string, string> } {
  const origins = new Map<string, string>();
  if (files.length === 0) return { env, origins };
  const merged: Record<string, string | undefined> = { ...env };
  for (const file of files) {
    for (const [key, { value, origin }] of readEnvFile(path.resolve(cwd, file))) {
      merged[key] = value;
      origins.set(key, origin);
    }
  }
  return { env: merged, origins };
}

