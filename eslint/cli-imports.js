/**
 * The CLI's programs reach core through src/commands/ only (SPEC §15: cli → commands →
 * core): a program may import values from src/commands/, src/base/ and its own folder,
 * and anything else only as a type. Dynamic `import()` counts: the programs load a
 * command's implementation when its action runs (start-up, SPEC §13), and that is the
 * command's module, not core's.
 */
import { importVisitors } from './layers.js';

const REACHABLE = new Set(['cli', 'commands', 'base']);

export default {
  meta: {
    type: 'problem',
    docs: { description: 'CLI programs import core through src/commands/ (types excepted)' },
    schema: [],
  },
  create(context) {
    const file = context.filename ?? context.getFilename();
    return importVisitors(file, (node, to, typeOnly) => {
      if (typeOnly || to === undefined || REACHABLE.has(to)) return;
      context.report({ node, message: `the CLI reaches src/${to}/ through src/commands/ (import a command, or only a type)` });
    });
  },
};
