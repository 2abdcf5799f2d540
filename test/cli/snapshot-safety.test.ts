/**
 * Startup-snapshot safety of src/: the single executable may evaluate every module at build time
 * (a V8 startup snapshot), so code that runs on import must not read what differs between the
 * build machine and the user's run — the environment, argv, the working or home directory, the
 * platform, the terminal, clocks, randomness, files — nor set process state a snapshot does not
 * carry (V8 flags, signal handlers, timers). Such reads belong in functions. This walks every
 * module's top-level code (not function bodies, not instance fields) with the TypeScript parser.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const SRC = resolve(import.meta.dirname, '../../src');

/** Globals whose use at import time would freeze the build machine's state, or set the process's. */
const GLOBALS = new Set(['process', 'Date', 'performance', 'globalThis', 'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'require', 'crypto', 'Intl', 'navigator']);
const MATH_CALLS = new Set(['random']);
/** Modules whose every export reads or changes process or machine state. */
const STATEFUL_MODULES = /^(node:)?(os|v8|process|tty|fs|fs\/promises|child_process|crypto|worker_threads|cluster|readline|dns|net|tls|http|https)$/;
/** The one top-level statement allowed to touch the process: the entry's call of main. */
const ENTRY = { file: 'cli/main.ts', text: 'await main(hideBin(process.argv));' };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every top-level use of a stateful global or import in one file (`file` relative to src/), as `file:line: what`. */
function importTimeReads(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const stateful = new Set<string>();
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || statement.importClause?.isTypeOnly) continue;
    const from = (statement.moduleSpecifier as ts.StringLiteral).text;
    if (!STATEFUL_MODULES.test(from)) continue;
    const clause = statement.importClause;
    if (clause?.name) stateful.add(clause.name.text);
    const bindings = clause?.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings)) stateful.add(bindings.name.text);
    if (bindings && ts.isNamedImports(bindings)) for (const element of bindings.elements) if (!element.isTypeOnly) stateful.add(element.name.text);
  }
  const found: string[] = [];
  const report = (node: ts.Node, what: string) => {
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    found.push(`${file}:${line}: ${what} in '${node.parent.getText(source).replace(/\s+/g, ' ').slice(0, 80)}'`);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node)) return; // runs when called, not on import
    if (ts.isImportDeclaration(node) || ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node) || ts.isTypeNode(node)) return;
    if (ts.isPropertyDeclaration(node) && !node.modifiers?.some((modifier) => modifier.kind === ts.SyntaxKind.StaticKeyword)) return;
    if (ts.isExpressionStatement(node) && file === ENTRY.file && node.getText(source) === ENTRY.text) return;
    if (ts.isIdentifier(node) && !isPropertyName(node)) {
      if (GLOBALS.has(node.text)) report(node, `the global ${node.text}`);
      else if (stateful.has(node.text)) report(node, `${node.text} (imported from a stateful module)`);
    }
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'Math' && MATH_CALLS.has(node.name.text)) {
      report(node, 'Math.random');
    }
    ts.forEachChild(node, visit);
  };
  ts.forEachChild(source, visit);
  return found;
}

/** `x` in `a.x`, `{ x: 1 }` or `{ x }`-less names: not a reference to a variable named x. */
function isPropertyName(node: ts.Identifier): boolean {
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) return true;
  if ((ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent) || ts.isMethodDeclaration(parent)) && parent.name === node) return true;
  return ts.isQualifiedName(parent) || ts.isEnumMember(parent);
}

describe('startup-snapshot safety of src/', () => {
  it('no module reads process, machine or clock state, or sets process state, when imported', () => {
    const files = sourceFiles(SRC);
    assert.ok(files.length > 50, `found ${files.length} source files under ${SRC}`);
    assert.deepEqual(files.flatMap((path) => importTimeReads(relative(SRC, path), readFileSync(path, 'utf8'))), []);
  });

  it('the walk finds what it is meant to find', () => {
    // young-generation.ts sets a V8 flag inside a function: clean. The same call at top level, and
    // other reads there, are caught; uses inside functions, methods and instance fields are not.
    const text = readFileSync(join(SRC, 'cli', 'young-generation.ts'), 'utf8');
    assert.deepEqual(importTimeReads('cli/young-generation.ts', text), []);
    const probe = [
      text,
      "setFlagsFromString('--x');",
      'const home = process.env.HOME;',
      'export const started = Date.now() + Math.random();',
      "class Clock { static zero = performance.now(); now = Date.now(); tick() { return process.hrtime(); } }",
      'const later = () => process.cwd();',
      'const table = { process: 1, cwd: later };',
      'await main(hideBin(process.argv));',
    ].join('\n');
    const at = (offset: number) => `cli/probe.ts:${text.split('\n').length + offset}`;
    assert.deepEqual(
      importTimeReads('cli/probe.ts', probe).map((line) => line.replace(/ in '.*$/, '')),
      [
        `${at(1)}: setFlagsFromString (imported from a stateful module)`,
        `${at(2)}: the global process`,
        `${at(3)}: the global Date`,
        `${at(3)}: Math.random`,
        `${at(4)}: the global performance`,
        `${at(7)}: the global process`,
      ],
    );
  });
});
