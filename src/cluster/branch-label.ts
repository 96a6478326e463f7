/** How a `database branch` database's comment starts (the rest is its label, src/branch/branch-store.ts). */
export const BRANCH_LABEL_PREFIX = 'db-tool branch ';
