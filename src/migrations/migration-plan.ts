/**
 * Pure planning (SPEC §7): from the migrations on disk, the migrations recorded in
 * `hectic.migration` and a request, decide exactly which migrations run in which
 * direction — or refuse before anything changes. No I/O here, so every rule is unit-tested.
 *
 * Refusals, in the order they are checked:
 *   an applied migration missing on disk       → AmbiguousError (exit 2), unless force
 *   a pending migration sorting before applied ones (merged out of order) → AmbiguousError
 *     (exit 2) for up/to, unless allowOutOfOrder (applies them, in name order, after the
 *     applied ones) or force; `down` only reverts, so it goes ahead
 *   an applied migration whose up file changed → AmbiguousError (exit 2), unless force
 *   impossible request (up N with 0 < pending < N, down past the start, a missing down
 *   file among those to revert, unknown NAME)  → BadInputError (exit 1)
 * Nothing to do (already at the target, nothing pending) is a plan with no steps.
 */
import { AmbiguousError, BadInputError } from '../base/errors.js';
import { plural } from '../base/text.js';

/** What the plan needs to know about a migration on disk. */
export interface PlannedMigrationSource {
  name: string;
  hash: string;
  upFile: string;
  downFile: string | null;
  /** `down.sql` or `down/entrypoint.sql`, for messages. */
  downLabel: string;
  /** The up file's bytes, when read already. */
  upSql?: Buffer;
}

/** A row of `hectic.migration`. */
export interface AppliedMigration {
  name: string;
  hash: string;
  appliedAt: Date;
  /** Recorded as a baseline when the database was built from the sources (it did not run). */
  baseline?: boolean;
}

export type MigrationRequest =
  | { kind: 'up'; count: number | 'all' }
  | { kind: 'down'; count: number | 'all' }
  /** A migration name (or its 14-digit timestamp), or 'latest' for the newest on disk. */
  | { kind: 'to'; target: string };

export interface MigrationStep {
  direction: 'up' | 'down';
  name: string;
  /** The file psql runs: the up file, or the down file. */
  file: string;
  /** sha256 of the up file (recorded in hectic.migration for an up step). */
  hash: string;
  /** The file's bytes, when read already (an up step's, as hashed). */
  sql?: Buffer;
}

export interface MigrationPlan {
  steps: MigrationStep[];
  /** Why there is nothing to do, when `steps` is empty. */
  nothingToDo: string | null;
  /** Warnings for checks that --force overrode. */
  forced: string[];
  /** Pending migrations that sort before applied ones (out of order), in name order. */
  outOfOrder: string[];
}

export interface PlanOptions {
  /** Proceed despite a history mismatch or changed migrations. */
  force?: boolean;
  /** Apply pending migrations that sort before applied ones (--allow-out-of-order). */
  allowOutOfOrder?: boolean;
  /** What the plan is for: a `down` reverts only, out-of-order migrations do not stop it. */
  request?: MigrationRequest['kind'];
}

/** Words meaning "the newest migration on disk" for `migrate to`. */
export const LATEST_WORDS = ['latest', 'head', 'last'] as const;

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Both lists, side by side enough to spot the difference. */
function describeHistories(disk: readonly PlannedMigrationSource[], applied: readonly AppliedMigration[]): string {
  const list = (names: string[]) => (names.length === 0 ? '  (none)' : names.map((name) => `  ${name}`).join('\n'));
  const position = applied.findIndex((migration, index) => disk[index]?.name !== migration.name);
  const first = `first difference at position ${position + 1}: applied ${applied[position]?.name ?? '(none)'}, on disk ${disk[position]?.name ?? '(none)'}`;
  return `${first}\napplied in the database:\n${list(applied.map((m) => m.name))}\non disk:\n${list(disk.map((m) => m.name))}`;
}

/**
 * Pending migrations that sort before the newest applied one: a merge brought in an
 * earlier-dated migration. Each with the applied migration it sorts before.
 */
export function findOutOfOrder(
  disk: ReadonlyArray<{ name: string }>,
  applied: ReadonlyArray<{ name: string; appliedAt: Date }>,
): Array<{ name: string; before: { name: string; appliedAt: Date } }> {
  const appliedNames = new Set(applied.map((migration) => migration.name));
  const sortedApplied = [...applied].sort(byName);
  const newest = sortedApplied.at(-1);
  if (!newest) return [];
  return disk
    .filter((migration) => !appliedNames.has(migration.name) && migration.name < newest.name)
    .map((migration) => ({ name: migration.name, before: sortedApplied.find((row) => row.name > migration.name) ?? newest }));
}

function describeOutOfOrder(found: ReturnType<typeof findOutOfOrder>): string {
  return found.map(({ name, before }) => `  ${name}: never applied, yet ${before.name} after it is (applied ${before.appliedAt.toISOString()})`).join('\n');
}

/**
 * Checks the recorded history against the disk: every applied migration must still be
 * on disk, unchanged (its up file hashes the same), and no pending one may sort before
 * an applied one (unless allowed). Returns the warnings to show when `force` overrode a
 * failed check, or when a `down` goes ahead past out-of-order migrations.
 */
export function checkHistory(
  disk: readonly PlannedMigrationSource[],
  applied: readonly AppliedMigration[],
  options: PlanOptions = {},
): string[] {
  const forced: string[] = [];
  const onDisk = new Map(disk.map((migration) => [migration.name, migration]));
  const missing = applied.filter((migration) => !onDisk.has(migration.name));
  if (missing.length > 0) {
    const names = missing.map((migration) => migration.name).join(', ');
    const message = `migration history mismatch: applied migration${missing.length === 1 ? '' : 's'} missing on disk: ${names}`;
    if (!options.force) throw new AmbiguousError(`${message} (pass --force to proceed anyway)`, describeHistories(disk, applied));
    forced.push(`${message}; proceeding because of --force`);
  }
  const outOfOrder = findOutOfOrder(disk, applied);
  if (outOfOrder.length > 0 && !options.allowOutOfOrder) {
    const count = outOfOrder.length;
    const message = `migration history mismatch: ${plural(count, 'migration')} on disk ${count === 1 ? 'is' : 'are'} out of order (sort${count === 1 ? 's' : ''} before applied ones, never applied: merged from another branch?)`;
    if (options.request === 'down') forced.push(`${message}; reverting goes ahead:\n${describeOutOfOrder(outOfOrder)}`);
    else if (!options.force) {
      throw new AmbiguousError(
        `${message}; pass --allow-out-of-order to apply ${count === 1 ? 'it' : 'them'} after the applied ones`,
        describeOutOfOrder(outOfOrder),
      );
    } else forced.push(`${message}; proceeding because of --force`);
  }
  const changed = applied.filter((migration) => {
    const source = onDisk.get(migration.name);
    return source !== undefined && source.hash !== migration.hash.toLowerCase();
  });
  if (changed.length > 0) {
    const names = changed.map((migration) => migration.name).join(', ');
    const message = `applied migration${changed.length === 1 ? '' : 's'} changed on disk since ${changed.length === 1 ? 'it was' : 'they were'} applied: ${names}`;
    if (!options.force) throw new AmbiguousError(`${message} (pass --force to proceed anyway)`);
    forced.push(`${message}; proceeding because of --force`);
  }
  return forced;
}

function upSteps(sources: readonly PlannedMigrationSource[]): MigrationStep[] {
  return sources.map((source) => ({ direction: 'up', name: source.name, file: source.upFile, hash: source.hash, sql: source.upSql }));
}

/** Down steps for applied migrations (newest first); every one needs its down file. */
function downSteps(toRevert: readonly AppliedMigration[], disk: readonly PlannedMigrationSource[]): MigrationStep[] {
  const onDisk = new Map(disk.map((migration) => [migration.name, migration]));
  const ordered = [...toRevert].sort(byName).reverse();
  const missing: string[] = [];
  const steps: MigrationStep[] = [];
  for (const migration of ordered) {
    const source = onDisk.get(migration.name);
    if (!source) missing.push(`${migration.name} (its folder is missing)`);
    else if (!source.downFile) missing.push(`${migration.name} (missing ${source.downLabel})`);
    else steps.push({ direction: 'down', name: migration.name, file: source.downFile, hash: source.hash });
  }
  if (missing.length > 0) {
    throw new BadInputError(`cannot revert: no down file for ${missing.join(', ')}; nothing was changed`);
  }
  return steps;
}

/** Finds `migrate to` targets: exact name, a unique 14-digit timestamp, or latest/head/last. */
export function resolveTarget(target: string, disk: readonly PlannedMigrationSource[]): PlannedMigrationSource | null {
  if ((LATEST_WORDS as readonly string[]).includes(target)) {
    return disk[disk.length - 1] ?? null;
  }
  const exact = disk.find((migration) => migration.name === target);
  if (exact) return exact;
  if (/^[0-9]{14}$/.test(target)) {
    const matches = disk.filter((migration) => migration.name.startsWith(`${target}-`));
    if (matches.length === 1) return matches[0] ?? null;
    if (matches.length > 1) {
      throw new BadInputError(`migration timestamp ${target} matches ${matches.length} migrations: ${matches.map((m) => m.name).join(', ')}; give the full name`);
    }
  }
  throw new BadInputError(`unknown migration '${target}': no folder of that name in the migration folder (see \`migrator list\`)`);
}

function planUp(pending: readonly PlannedMigrationSource[], count: number | 'all', total: number): Omit<MigrationPlan, 'forced' | 'outOfOrder'> {
  if (pending.length === 0) return { steps: [], nothingToDo: `nothing to migrate: all ${plural(total, 'migration')} applied` };
  if (count === 'all') return { steps: upSteps(pending), nothingToDo: null };
  if (count > pending.length) {
    throw new BadInputError(`cannot apply ${plural(count, 'migration')}: only ${pending.length} pending; nothing was changed`);
  }
  return { steps: upSteps(pending.slice(0, count)), nothingToDo: null };
}

function planDown(
  applied: readonly AppliedMigration[],
  count: number | 'all',
  disk: readonly PlannedMigrationSource[],
): Omit<MigrationPlan, 'forced' | 'outOfOrder'> {
  const newestFirst = [...applied].sort(byName).reverse();
  if (count === 'all') {
    if (newestFirst.length === 0) return { steps: [], nothingToDo: 'nothing to revert: no migration is applied' };
    return { steps: downSteps(newestFirst, disk), nothingToDo: null };
  }
  if (count > newestFirst.length) {
    throw new BadInputError(
      `cannot revert ${plural(count, 'migration')}: only ${newestFirst.length} applied (that would go past the start); nothing was changed`,
    );
  }
  return { steps: downSteps(newestFirst.slice(0, count), disk), nothingToDo: null };
}

function planTo(
  target: string,
  disk: readonly PlannedMigrationSource[],
  applied: readonly AppliedMigration[],
  pending: readonly PlannedMigrationSource[],
): Omit<MigrationPlan, 'forced' | 'outOfOrder'> {
  const isLatestWord = (LATEST_WORDS as readonly string[]).includes(target);
  const source = resolveTarget(target, disk);
  if (!source) {
    // `to latest` with an empty folder: the target state is "nothing applied from disk".
    if (applied.length === 0) return { steps: [], nothingToDo: 'nothing to migrate: there are no migrations' };
    return { steps: downSteps(applied, disk), nothingToDo: null };
  }
  const toRevert = applied.filter((migration) => migration.name > source.name);
  const toApply = pending.filter((migration) => migration.name <= source.name);
  if (toRevert.length === 0 && toApply.length === 0) {
    return { steps: [], nothingToDo: isLatestWord ? `nothing to migrate: already at the latest migration ${source.name}` : `already at ${source.name}` };
  }
  // Reverts first (newest first), then applies (oldest first): with a consistent
  // history only one of the two lists is non-empty.
  return { steps: [...downSteps(toRevert, disk), ...upSteps(toApply)], nothingToDo: null };
}

/**
 * Plans a request. `disk` in name order; `applied` in any order. Throws the errors
 * listed at the top of this module; otherwise returns the steps (maybe none).
 */
export function planMigrations(
  disk: readonly PlannedMigrationSource[],
  applied: readonly AppliedMigration[],
  request: MigrationRequest,
  options: PlanOptions = {},
): MigrationPlan {
  const sortedDisk = [...disk].sort(byName);
  const sortedApplied = [...applied].sort(byName);
  const forced = checkHistory(sortedDisk, sortedApplied, { ...options, request: request.kind });
  const outOfOrder = findOutOfOrder(sortedDisk, sortedApplied).map((migration) => migration.name);
  const appliedNames = new Set(sortedApplied.map((migration) => migration.name));
  const pending = sortedDisk.filter((migration) => !appliedNames.has(migration.name));
  let plan: Omit<MigrationPlan, 'forced' | 'outOfOrder'>;
  switch (request.kind) {
    case 'up':
      plan = planUp(pending, request.count, sortedDisk.length);
      break;
    case 'down':
      plan = planDown(sortedApplied, request.count, sortedDisk);
      break;
    case 'to':
      plan = planTo(request.target, sortedDisk, sortedApplied, pending);
      break;
  }
  return { ...plan, forced, outOfOrder };
}
