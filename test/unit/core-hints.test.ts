// The core's hint texts name neither the CLI nor its flags: what to do in the CLI's or the app's
// terms is a next step (src-main/common/next-steps.ts) that each words itself. The scan reads
// every hint argument of an AtlasError, every `hint`/`fix` property and the doctor's fixes in
// src-main/core and src-main/app with the TypeScript parser, so comments and tool arguments
// (limactl's own --json, mdadm --stop) do not count.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** The literal text pieces under a node (strings, template parts), each with where it is. */
function texts(node: ts.Node, file: ts.SourceFile, out: string[]): void {
  if (ts.isStringLiteralLike(node)) out.push(node.text);
  else if (ts.isTemplateExpression(node)) {
    out.push(node.head.text, ...node.templateSpans.map((s) => s.literal.text));
    for (const s of node.templateSpans) texts(s.expression, file, out);
  } else node.forEachChild((c) => texts(c, file, out));
}

/** Every hint text of one source file, as `path:line: text`. */
function hintsOf(path: string): string[] {
  const file = ts.createSourceFile(
    path,
    readFileSync(join(ROOT, path), 'utf8'),
    ts.ScriptTarget.Latest,
    true,
  );
  const found: string[] = [];
  const take = (node: ts.Node | undefined) => {
    if (!node) return;
    const pieces: string[] = [];
    texts(node, file, pieces);
    const line = file.getLineAndCharacterOfPosition(node.getStart()).line + 1;
    for (const p of pieces) if (p.trim()) found.push(`${path}:${line}: ${p}`);
  };
  const visit = (node: ts.Node) => {
    if (ts.isNewExpression(node) && node.expression.getText(file) === 'AtlasError') take(node.arguments?.[2]);
    if (ts.isCallExpression(node) && /^(fail|skip)$/.test(node.expression.getText(file))) {
      take(node.arguments[3]);
    }
    if (ts.isPropertyAssignment(node) && /^(hint|fix)$/.test(node.name.getText(file))) take(node.initializer);
    node.forEachChild(visit);
  };
  visit(file);
  return found;
}

/** The CLI's own flags, read from its sources (its option tables and usage lines). */
function cliFlags(): string[] {
  const flags = new Set<string>();
  for (const f of tsFiles('src-main/cli')) {
    for (const m of readFileSync(join(ROOT, f), 'utf8').matchAll(/--([a-z][a-z-]+)/g)) flags.add(m[1]!);
  }
  return [...flags];
}

describe('core hints', () => {
  const hints = [...tsFiles('src-main/core'), ...tsFiles('src-main/app')].flatMap(hintsOf);
  const flags = cliFlags();

  it('the scan sees the hints and the CLI flags', () => {
    expect(hints.length).toBeGreaterThan(60);
    expect(hints.some((h) => /free some space/.test(h))).toBe(true);
    expect(flags).toEqual(expect.arrayContaining(['force', 'secrets', 'library', 'allow-large-disk']));
  });

  it('no hint names ods-sd, its flags, or running it with sudo', () => {
    const flag = new RegExp(`(^|[\\s(\`'"])--(${flags.join('|')})\\b`);
    const wrong = hints.filter((h) => /ods-sd/.test(h) || flag.test(h.replace(/^[^:]*:\d+: /, '')));
    expect(wrong).toEqual([]);
  });
});
