/**
 * The house of SPEC §15: every folder of src/ has a rank, and a module may import only
 * from its own folder or from folders of a lower rank. Folders of equal rank are
 * neighbours that do not know each other (backup, doctor, migrations and staging each stand on
 * the layers below them). A new folder must be given a rank here before it lints.
 */
import path from 'node:path';

export const RANKS = {
  base: 0,
  pg: 1,
  cluster: 2,
  deploy: 3,
  sqltest: 3,
  migrations: 4,
  backup: 4,
  staging: 4,
  doctor: 4,
  diff: 5,
  branch: 5,
  commands: 6,
  cli: 7,
};

function folderOf(file) {
  const parts = path.relative(path.resolve('src'), file).split(path.sep);
  return parts.length > 1 && !parts[0].startsWith('..') ? parts[0] : undefined;
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'imports point down the layers of SPEC §15' },
    schema: [],
  },
  create(context) {
    const file = context.filename ?? context.getFilename();
    const from = folderOf(file);
    if (from === undefined) {
      return {
        Program(node) {
          context.report({ node, message: `src/ holds folders only (SPEC §15); move ${path.basename(file)} into one` });
        },
      };
    }
    if (!(from in RANKS)) {
      return {
        Program(node) {
          context.report({ node, message: `src/${from}/ has no rank in eslint/layers.js` });
        },
      };
    }
    const check = (node, source) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const to = folderOf(path.resolve(path.dirname(file), source));
      if (to === undefined || to === from) return;
      if (!(to in RANKS) || RANKS[to] >= RANKS[from]) {
        context.report({ node, message: `src/${from}/ may not import src/${to}/ (imports point down: ${Object.keys(RANKS).join(' < ')})` });
      }
    };
    return {
      ImportDeclaration(node) { check(node, node.source.value); },
      ExportNamedDeclaration(node) { if (node.source) check(node, node.source.value); },
      ExportAllDeclaration(node) { check(node, node.source.value); },
      ImportExpression(node) { if (node.source.type === 'Literal') check(node, node.source.value); },
    };
  },
};
