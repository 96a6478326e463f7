/**
 * Finding and reading the dotenv file whose secrets hydrate loads. Parsing is done in
 * SQL by `hectic.load_secrets_from_env(text)`, so the rules live in one place (the
 * bundle); here we only decide which file and read it. Its content is never logged.
 */
import path from 'node:path';
import type { Config } from '../base/config.js';
import { DOTENV_MAX_BYTES } from '../base/env-files.js';
import { readSmallTextFile } from '../base/small-file.js';

export interface DotenvFile {
  path: string;
  text: string;
}

export type DotenvLookup =
  | { kind: 'none' }
  | { kind: 'unreadable'; path: string; explicit: boolean; reason: string }
  | { kind: 'found'; file: DotenvFile };

/** True when the path came from HECTIC_DOTENV_FILE rather than `$LOCAL_DIR/.env.$ENVIRONMENT`. */
function isExplicit(config: Pick<Config, 'localDir' | 'environment'>, file: string): boolean {
  if (!config.localDir || !config.environment) return true;
  return file !== path.join(config.localDir, `.env.${config.environment}`);
}

/** The settings that name the dotenv file: HECTIC_DOTENV_FILE, else LOCAL_DIR and ENVIRONMENT. */
export type DotenvSettings = Pick<Config, 'dotenvFile' | 'localDir' | 'environment'>;

/** The dotenv file of this configuration: none configured, unreadable, or its text. */
export function readDotenvFile(config: DotenvSettings): DotenvLookup {
  const file = config.dotenvFile;
  if (!file) return { kind: 'none' };
  // A FIFO or /dev/zero named here must fail at once, not hang or fill the memory.
  const read = readSmallTextFile(file, DOTENV_MAX_BYTES);
  if (read.ok) return { kind: 'found', file: { path: file, text: read.text } };
  return { kind: 'unreadable', path: file, explicit: isExplicit(config, file), reason: read.reason };
}
