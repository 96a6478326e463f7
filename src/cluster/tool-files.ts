/**
 * Small files the tool keeps in a working dir (what deploys built, how to reach the
 * running server). As root the server account owns the working dir, so these are never
 * opened through a link (SPEC §12): read with O_NOFOLLOW, written as a new file (O_EXCL)
 * renamed over the old one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { scratchName } from './cluster-layout.js';

/** The file's text, or undefined when it is missing, a link, or unreadable. */
export function readToolFile(workingDir: string, name: string): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path.join(workingDir, name), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    return fs.readFileSync(fd, 'utf8');
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** A JSON object from a tool file; {} when missing or malformed. */
export function readToolJson(workingDir: string, name: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(readToolFile(workingDir, name) ?? '{}') as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Writes a tool file; false when it cannot (a full disk): these files are notes that
 * make later commands smarter, never worth failing the command that writes them.
 */
export function writeToolFile(workingDir: string, name: string, text: string): boolean {
  // A scratch name: `database cleanup` accepts it, and a leftover is safe to delete.
  const temp = path.join(workingDir, scratchName('write'));
  try {
    const fd = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644);
    try {
      fs.writeFileSync(fd, text);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, path.join(workingDir, name));
    return true;
  } catch {
    fs.rmSync(temp, { force: true });
    return false;
  }
}
