/**
 * Fresh clusters prepared in advance (the ephemeralpg trick): after a fresh start we
 * copy the template into `<working dir>/.spare-<key>-1` and `-2` in the background, and
 * the next fresh start only renames one into place, so it copies nothing while you
 * wait. Two, so that re-sourcing right after a start (a second terminal, a re-run
 * shellHook) still finds one ready while the other is being refilled.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SPARE_PREFIX } from './cluster-layout.js';
import type { Config } from '../base/config.js';
import { removeInBackground, spawnDetachedScript } from '../base/process.js';

const SPARE_TMP_PREFIX = '.spare-tmp-';
/** Restored copies of a backup kept ready for diff's DB1 (src/backup/restored-spare.ts); not templates. */
export const RESTORED_SPARE_PREFIX = `${SPARE_PREFIX}restored-`;
/** A restored copy in preparation: `.spare-restored-tmp-<pid>` (the shell that extracts). */
export const RESTORED_TMP_PREFIX = `${RESTORED_SPARE_PREFIX}tmp-`;

/** A kind of spare's own part of its preparation script (see preparationScript). */
export interface PreparationSteps {
  /** Names of its arguments after `$1` (the working dir) and `$2` (the key). */
  params: readonly string[];
  /** Lines run once, before the loop. */
  setup?: readonly string[];
  /** Lines that make a complete `data` folder in the current folder (`break 2` on failure). */
  copy: readonly string[];
}

/**
 * For each missing spare in turn: make `data` (the kind's `copy`), then rename it, so a
 * spare exists only once it is complete; then again, until a pass finds every spare
 * there (one taken by a start while we copied another is made again). The copies go
 * through `<tmpPrefix><$$>-<key>` (the detached shell, leader of its own process group),
 * which exists for the whole run — startPreparation makes it as soon as the shell starts,
 * before returning — so a cleanup always finds and stops the preparation. At the lowest
 * priority: it must not slow down a start or a run beside it.
 */
function preparationScript(tmpPrefix: string, steps: PreparationSteps): string {
  const params = steps.params.map((name, index) => `${name}=\${${index + 3}}`);
  return [
    'renice -n 19 $$ >/dev/null 2>&1; ionice -c 3 -p $$ >/dev/null 2>&1',
    `dir=$1; key=$2; ${params.join('; ')}; shift ${steps.params.length + 2}`,
    `tmp="$dir/${tmpPrefix}$$-$key"`,
    'mkdir -p "$tmp" || exit 1',
    // The working dir is the server account's: work from inside the folder we made,
    // pinned as our working folder, never through a link planted in its place.
    'real=$(cd -P -- "$dir" && pwd -P) && cd -P -- "$tmp" && [ "$(pwd -P)" = "$real/${tmp##*/}" ] || exit 1',
    ...(steps.setup ?? []),
    'while :; do',
    '  made=',
    '  for spare in "$@"; do',
    '    [ -e "$spare" ] && continue',
    ...steps.copy,
    // GNU's -T never moves into an existing folder, even one a link planted in the
    // working dir (the server account's) points to. A POSIX mv (BSD, macOS) has no -T:
    // there the name is checked free, and no link, right before.
    '    mv -T data "$spare" 2>/dev/null || { [ -d data ] && [ ! -e "$spare" ] && [ ! -L "$spare" ] && mv data "$spare"; } || break 2',
    '    made=1',
    '  done',
    '  [ -n "$made" ] || break',
    'done',
    'cd / && rm -rf -- "$tmp"',
  ].join('\n');
}

/** Starts a preparation of `spares` in `dir` in the background (see preparationScript). */
export function startPreparation(config: Pick<Config, 'env'>, tmpPrefix: string, dir: string, key: string, steps: PreparationSteps, values: readonly string[], spares: readonly string[]): void {
  const pid = spawnDetachedScript(config, preparationScript(tmpPrefix, steps), [dir, key, ...values, ...spares]);
  try {
    // Made at once, so that a cleanup right after us finds (and stops) the preparation.
    if (pid !== undefined) fs.mkdirSync(path.join(dir, `${tmpPrefix}${pid}-${key}`));
  } catch {
    // the shell was quicker (or cannot start): either way nothing to add
  }
}

/** A template spare: a copy of the template cache's cluster. */
const TEMPLATE_COPY: PreparationSteps = { params: ['template'], copy: ['    cp -a "$template" data || break 2'] };

/** The spares to keep ready for `key`: `PG_SPARES` of them (0: none). */
function spareNames(key: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${SPARE_PREFIX}${key}-${index + 1}`);
}

/** A complete spare of `key`, whatever `PG_SPARES` was when it was made: ready spares are always used. */
function isSpareOf(entry: string, key: string): boolean {
  return entry.startsWith(`${SPARE_PREFIX}${key}-`) && /^[0-9]+$/.test(entry.slice(SPARE_PREFIX.length + key.length + 1));
}

/** No spare on a disk with less room than this: it must never fill the disk under a running server. */
const MIN_FREE_FOR_SPARE = 512 * 1024 * 1024;

/** `.spare-tmp-<pid>-<key>` (`-<key>` missing in folders of older versions). */
const PREPARATION_NAME = /^\.spare-tmp-([0-9]+)(?:-([0-9a-z]+))?$/;
/** `.spare-restored-tmp-<pid>-<key>`. */
const RESTORED_PREPARATION_NAME = /^\.spare-restored-tmp-([0-9]+)-([0-9a-z]+)$/;

export interface Preparation {
  folder: string;
  /** Its shell, leader of the process group that copies. */
  pid: number;
  /** The template it copies. */
  key: string | undefined;
  /** True when its shell still runs (checked: see isPreparationShell). */
  running: boolean;
}

/**
 * True when `pid` is the shell of a preparation in `dir` and leads its process group.
 * The pid comes from a folder name in the working dir, which the server account can
 * write: signalling the group of whatever pid it names would reach any process (and
 * group -1 is every process root may signal). Told through /proc (Linux); where there
 * is none, nothing is signalled and only the folder goes.
 */
function isPreparationShell(pid: number, dir: string): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 1 || pid === process.pid) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    // spawnDetachedScript: /bin/sh -c SCRIPT db-tool DIR KEY …
    return group === pid && args[0] === '/bin/sh' && args[3] === 'db-tool' && path.resolve(args[4] ?? '') === path.resolve(dir);
  } catch {
    return false;
  }
}

/** Spare copies in progress in `dir`: of the template, or (`restored`) restored copies of a backup. */
export function preparations(dir: string, kind: 'template' | 'restored' = 'template'): Preparation[] {
  const name = kind === 'template' ? PREPARATION_NAME : RESTORED_PREPARATION_NAME;
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const match = name.exec(entry);
    if (!match) return [];
    const pid = Number(match[1]);
    return [{ folder: path.join(dir, entry), pid, key: match[2], running: isPreparationShell(pid, dir) }];
  });
}

/** True when a complete spare for `key` is ready in `dir`. */
export function hasSpare(dir: string, key: string): boolean {
  try {
    return fs.readdirSync(dir).some((entry) => isSpareOf(entry, key));
  } catch {
    return false;
  }
}

/**
 * Moves a complete spare for `key` to `target`; spares of other templates are dropped.
 * A spare still being copied is not waited for: copying the template beside it uses
 * the second core, which is faster than waiting for it one copy after the other.
 */
export function takeSpare(config: Pick<Config, 'env'>, dir: string, key: string, target: string): boolean {
  let taken = false;
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return false;
  }
  for (const entry of entries) {
    // Restored copies of a backup are another pool's (restored-spare.ts).
    if (!entry.startsWith(SPARE_PREFIX) || entry.startsWith(SPARE_TMP_PREFIX) || entry.startsWith(RESTORED_SPARE_PREFIX)) continue;
    const spare = path.join(dir, entry);
    const ours = isSpareOf(entry, key);
    if (ours && !taken) {
      try {
        fs.renameSync(spare, target);
        taken = true;
        continue;
      } catch {
        // another run took it first
      }
    }
    if (!ours) removeInBackground(config, spare);
  }
  return taken;
}

/** Starts filling the spares of `key` in `dir` with copies of `template`, unless they exist or are on their way. */
export function prepareSpare(config: Pick<Config, 'env' | 'spares'>, dir: string, key: string, template: string): void {
  const spares = spareNames(key, config.spares).map((name) => path.join(dir, name));
  if (!fs.existsSync(path.join(template, 'PG_VERSION')) || spares.every((spare) => fs.existsSync(spare))) return;
  for (const preparation of preparations(dir)) {
    if (preparation.key === key && preparation.running) return;
    // Left by a copy that was killed (a CI job ending under it), which never completes,
    // or copying a template we no longer use: its spares would be dropped at the next start.
    if (preparation.running) stopPreparation(preparation);
    else removeInBackground(config, preparation.folder);
  }
  if (!roomForSpare(dir)) return;
  startPreparation(config, SPARE_TMP_PREFIX, dir, key, TEMPLATE_COPY, [template], spares);
}

/** True when `dir`'s disk keeps MIN_FREE_FOR_SPARE free after `bytes` more. */
export function roomForSpare(dir: string, bytes = 0): boolean {
  try {
    const stat = fs.statfsSync(dir);
    return stat.bavail * stat.bsize >= MIN_FREE_FOR_SPARE + bytes;
  } catch {
    return false;
  }
}

/** Stops spare copies in progress in `dir` (templates and restored backups) and removes what they wrote. */
export function stopSparePreparation(dir: string): void {
  for (const preparation of [...preparations(dir), ...preparations(dir, 'restored')]) stopPreparation(preparation);
}

/** Ends a preparation's process group (only a checked one: see isPreparationShell) and removes its folder. */
export function stopPreparation({ folder, pid, running }: Preparation): void {
  if (running) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already finished
    }
  }
  fs.rmSync(folder, { recursive: true, force: true });
}
