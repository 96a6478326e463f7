/**
 * Core functions take the narrow settings they use (issue 21): below src/commands/, no
 * function takes a parameter typed exactly `Config`, and no options object carries a
 * field typed so. A function declares what it reads — `Pick<Config, 'env' | 'path'>`,
 * a named narrow type (`PgPrograms`, `ClusterSetup`), or the value itself (`env`) — so
 * a reader sees its inputs and a test builds them without loading a whole configuration.
 * Callers that hold a full `Config` still pass it. src/commands/ and src/cli/ are the
 * boundary and keep `Config`.
 *
 * `allow` names functions that must take the whole `Config`, each with its reason.
 */
import path from 'node:path';

const BOUNDARY = new Set(['commands', 'cli']);

/** The name a function is known by: its own, its variable's, its method's or property's. */
function functionName(node) {
  if (node.id?.name) return node.id.name;
  if (node.type === 'TSMethodSignature' && node.key.type === 'Identifier') return node.key.name;
  const parent = node.parent;
  if (parent?.type === 'VariableDeclarator' && parent.id.type === 'Identifier') return parent.id.name;
  if ((parent?.type === 'MethodDefinition' || parent?.type === 'Property' || parent?.type === 'PropertyDefinition') && parent.key?.type === 'Identifier') return parent.key.name;
  return '(anonymous function)';
}

/** The type annotation of a parameter, also behind a default value or a rest. */
function parameterType(param) {
  if (param.type === 'AssignmentPattern') return parameterType(param.left);
  if (param.type === 'RestElement') return param.typeAnnotation?.typeAnnotation;
  if (param.type === 'TSParameterProperty') return parameterType(param.parameter);
  return param.typeAnnotation?.typeAnnotation;
}

function parameterName(param) {
  if (param.type === 'AssignmentPattern') return parameterName(param.left);
  if (param.type === 'TSParameterProperty') return parameterName(param.parameter);
  return param.type === 'Identifier' ? param.name : 'a parameter';
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'core functions take the narrow settings they use, not the whole Config' },
    schema: [{
      type: 'object',
      properties: {
        allow: {
          type: 'array',
          items: {
            type: 'object',
            properties: { function: { type: 'string' }, reason: { type: 'string', minLength: 1 } },
            required: ['function', 'reason'],
            additionalProperties: false,
          },
        },
      },
      additionalProperties: false,
    }],
  },
  create(context) {
    const file = context.filename ?? context.getFilename();
    const relative = path.relative(path.resolve('src'), file);
    if (relative.startsWith('..') || path.isAbsolute(relative) || BOUNDARY.has(relative.split(path.sep)[0])) return {};
    const configModule = path.resolve('src', 'base', 'config');
    const allowed = new Set((context.options[0]?.allow ?? []).map((entry) => entry.function));
    // The configuration's `Config`: declared in src/base/config.ts, imported from it elsewhere.
    const configNames = new Set(relative === path.join('base', 'config.ts') ? ['Config'] : []);
    const isWholeConfig = (type) =>
      type?.type === 'TSTypeReference' && type.typeName.type === 'Identifier' && configNames.has(type.typeName.name) && !(type.typeArguments ?? type.typeParameters);
    const advice = "declare the settings it uses (Pick<Config, …> or a named narrow type), or take the value itself (config.env → env)";

    const checkFunction = (node) => {
      const name = functionName(node);
      if (allowed.has(name)) return;
      for (const param of node.params) {
        if (isWholeConfig(parameterType(param))) {
          context.report({ node: param, message: `${name}: ${parameterName(param)} is the whole Config; ${advice}` });
        }
      }
    };

    return {
      ImportSpecifier(node) {
        const imported = node.imported.name ?? node.imported.value;
        const source = node.parent.source.value;
        const target = source.startsWith('.') ? path.resolve(path.dirname(file), source).replace(/\.js$/, '') : undefined;
        if (imported === 'Config' && target === configModule) configNames.add(node.local.name);
      },
      ':function'(node) {
        checkFunction(node);
      },
      TSDeclareFunction(node) {
        checkFunction(node);
      },
      TSEmptyBodyFunctionExpression(node) {
        checkFunction(node);
      },
      TSMethodSignature(node) {
        checkFunction(node);
      },
      TSFunctionType(node) {
        checkFunction(node);
      },
      TSPropertySignature(node) {
        if (!isWholeConfig(node.typeAnnotation?.typeAnnotation)) return;
        const key = node.key.type === 'Identifier' ? node.key.name : 'a field';
        context.report({ node, message: `${key}: an options field that is the whole Config; ${advice}` });
      },
    };
  },
};
