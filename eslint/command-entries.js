/**
 * `*Command` functions are the entries of the tool's subcommands and live only in
 * src/commands/ (SPEC §15): the CLI calls them, core returns results to them. A core
 * function is named for what it does (runMigrations, patchTarget), not for the command
 * that happens to call it. `allow` lists names (regular expressions) that end in
 * `Command` for another reason: a commander Command, a shell command line.
 */
import path from 'node:path';

function isCommandEntry(name, allowed) {
  return typeof name === 'string' && /^[a-z]\w*Command$/.test(name) && !allowed.some((pattern) => pattern.test(name));
}

export default {
  meta: {
    type: 'problem',
    docs: { description: '*Command functions are exported from src/commands/ only' },
    schema: [{ type: 'object', properties: { allow: { type: 'array', items: { type: 'string' } } }, additionalProperties: false }],
  },
  create(context) {
    const file = context.filename ?? context.getFilename();
    const relative = path.relative(path.resolve('src'), file);
    if (relative.startsWith('..') || relative.split(path.sep)[0] === 'commands') return {};
    const allowed = (context.options[0]?.allow ?? []).map((pattern) => new RegExp(pattern));
    const report = (node, name) =>
      context.report({ node, message: `${name}: *Command functions are subcommand entries and live in src/commands/; name a core function for what it does` });
    const isFunction = (node) => node && ['FunctionExpression', 'ArrowFunctionExpression'].includes(node.type);
    const functionNames = new Set();
    return {
      FunctionDeclaration(node) {
        if (node.id) functionNames.add(node.id.name);
      },
      VariableDeclarator(node) {
        if (node.id.type === 'Identifier' && isFunction(node.init)) functionNames.add(node.id.name);
      },
      ExportNamedDeclaration(node) {
        const declaration = node.declaration;
        if (declaration?.type === 'FunctionDeclaration' && isCommandEntry(declaration.id?.name, allowed)) report(declaration, declaration.id.name);
        if (declaration?.type === 'VariableDeclaration') {
          for (const declarator of declaration.declarations) {
            if (declarator.id.type === 'Identifier' && isFunction(declarator.init) && isCommandEntry(declarator.id.name, allowed)) report(declarator, declarator.id.name);
          }
        }
      },
      'Program:exit'(program) {
        // `export { fooCommand }` and `export { foo as fooCommand }` of a local function.
        for (const node of program.body) {
          if (node.type !== 'ExportNamedDeclaration' || node.declaration || node.source) continue;
          for (const specifier of node.specifiers) {
            const exported = specifier.exported.name ?? specifier.exported.value;
            if (functionNames.has(specifier.local.name) && isCommandEntry(exported, allowed)) report(specifier, exported);
          }
        }
      },
    };
  },
};
