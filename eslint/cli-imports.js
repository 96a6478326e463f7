/**
 * The CLI's programs reach core through src/commands/ only (SPEC §15: cli → commands →
 * core): a program may import values from src/commands/, src/base/ and its own folder,
 * and anything else only as a type. Dynamic `import()` counts: the programs load a
 * command's implementation when its action runs (start-up, SPEC §13), and that is the
 * command's module, not core's.
 */
import path from 'node:path';

const REACHABLE = new Set(['cli', 'commands', 'base']);

function folderOf(file) {
  const parts = path.relative(path.resolve('src'), file).split(path.sep);
  return parts.length > 1 && !parts[0].startsWith('..') ? parts[0] : undefined;
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'CLI programs import core through src/commands/ (types excepted)' },
    schema: [],
  },
  create(context) {
    const file = context.filename ?? context.getFilename();
    const check = (node, source, typeOnly) => {
      if (typeOnly || typeof source !== 'string' || !source.startsWith('.')) return;
      const to = folderOf(path.resolve(path.dirname(file), source));
      if (to === undefined || REACHABLE.has(to)) return;
      context.report({ node, message: `the CLI reaches src/${to}/ through src/commands/ (import a command, or only a type)` });
    };
    const allTypes = (node) => node.importKind === 'type' || (node.specifiers.length > 0 && node.specifiers.every((specifier) => specifier.importKind === 'type'));
    return {
      ImportDeclaration(node) { check(node, node.source.value, allTypes(node)); },
      ExportNamedDeclaration(node) { if (node.source) check(node, node.source.value, node.exportKind === 'type'); },
      ExportAllDeclaration(node) { check(node, node.source.value, node.exportKind === 'type'); },
      ImportExpression(node) { if (node.source.type === 'Literal') check(node, node.source.value, false); },
    };
  },
};
