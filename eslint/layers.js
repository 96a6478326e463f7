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
  scaffold: 5,
  commands: 6,
  cli: 7,
};

/** The folder of src/ that `file` lies in (undefined outside a folder of src/). */
export function folderOf(file) {
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
    return importVisitors(file, (node, to) => {
      if (to === undefined || to === from) return;
      if (!(to in RANKS) || RANKS[to] >= RANKS[from]) {
        context.report({ node, message: `src/${from}/ may not import src/${to}/ (imports point down: ${Object.keys(RANKS).join(' < ')})` });
      }
    });
  },
};

/**
 * Visitors calling `check(node, folder, typeOnly)` for every relative import, re-export
 * and dynamic `import()` of `file`, with the src/ folder it reaches.
 */
export function importVisitors(file, check) {
  const visit = (node, source, typeOnly) => {
    if (typeof source !== 'string' || !source.startsWith('.')) return;
    check(node, folderOf(path.resolve(path.dirname(file), source)), typeOnly);
  };
  const allTypes = (node) => node.importKind === 'type' || (node.specifiers.length > 0 && node.specifiers.every((specifier) => specifier.importKind === 'type'));
  return {
    ImportDeclaration(node) { visit(node, node.source.value, allTypes(node)); },
    ExportNamedDeclaration(node) { if (node.source) visit(node, node.source.value, node.exportKind === 'type'); },
    ExportAllDeclaration(node) { visit(node, node.source.value, node.exportKind === 'type'); },
    ImportExpression(node) { if (node.source.type === 'Literal') visit(node, node.source.value, false); },
  };
}
