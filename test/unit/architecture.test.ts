/**
 * The shape of src/ (docs/ARCHITECTURE.md, shared/STYLE.md §1): reads every import of every source
 * file and fails on an import cycle, on an arrow that points up the layers, and on a source file
 * over the size a newcomer can hold. The import reader is itself table-tested, so the check cannot
 * pass by reading nothing.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');
/** Longest source file allowed, in lines (issue 8: "no source file over 500 lines"). */
const MAX_LINES = 500;

/**
 * Layers, bottom first, and what each may import besides itself. `api` is the local-API contract:
 * types and constants that the daemon, the CLI and the browser page share; the page may import
 * nothing else from src/ (it talks to the daemon only over HTTP).
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  base: [],
  crypto: ['base'],
  protocol: ['base', 'crypto'],
  ports: ['base', 'crypto', 'protocol'],
  store: ['base', 'crypto', 'protocol', 'ports'],
  transport: ['base', 'crypto', 'protocol', 'ports'],
  runtime: ['base', 'crypto', 'protocol', 'ports', 'store', 'transport'],
  api: ['base'],
  sim: ['base', 'crypto', 'protocol', 'ports', 'store', 'transport'],
  testing: ['base', 'crypto', 'protocol', 'ports', 'store', 'transport', 'sim'],
  daemon: ['base', 'crypto', 'protocol', 'ports', 'store', 'transport', 'runtime', 'api'],
  cli: ['base', 'crypto', 'protocol', 'ports', 'store', 'transport', 'runtime', 'api', 'daemon', 'sim'],
  entry: ['base', 'crypto', 'protocol', 'ports', 'store', 'transport', 'runtime'],
  web: ['base', 'api'],
  'web-build': [],
};

/** The layer of a file, from its path relative to src/. */
export function layerOf(rel: string): string {
  const [top] = rel.split('/');
  if (rel === 'errors.ts' || top === 'util') return 'base';
  if (rel === 'ports.ts') return 'ports';
  if (rel === 'index.ts') return 'entry';
  if (rel === 'web/vite.config.ts') return 'web-build';
  if (top in MAY_IMPORT) return top;
  throw new Error(`src/${rel} is in no layer: add it to MAY_IMPORT in test/unit/architecture.test.ts`);
}

/** Relative module specifiers of a source text: static imports and re-exports, and dynamic imports. */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  // Comments may quote imports (usage examples): drop them first.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const patterns = [
    /(?:^|[;\s])(?:import|export)\s[^;'"`]*?\sfrom\s*['"]([^'"]+)['"]/g,
    /(?:^|[;\s])import\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) if (m[1].startsWith('.')) out.push(m[1]);
  return out;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'dist' && name !== 'node_modules') out.push(...sourceFiles(p));
    } else if (/\.(ts|tsx)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Import edges between files of src/ (paths relative to src/). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const rel = relative(SRC, file);
    const deps = importsOf(readFileSync(file, 'utf8')).map((spec) => relative(SRC, resolve(dirname(file), spec)));
    graph.set(rel, deps);
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
export function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

describe('architecture: the import reader', () => {
  const table: { desc: string; input: string; expected: string[] }[] = [
    { desc: 'named import', input: "import { a } from './a.ts';", expected: ['./a.ts'] },
    { desc: 'type import over lines', input: "import type {\n  A,\n  B,\n} from '../b.ts';", expected: ['../b.ts'] },
    {
      desc: 're-export',
      input: "export { x } from './x.ts';\nexport * from './y.ts';",
      expected: ['./x.ts', './y.ts'],
    },
    { desc: 'side-effect import', input: "import './polyfill.ts';", expected: ['./polyfill.ts'] },
    {
      desc: 'dynamic import',
      input: "const m = await import('../daemon/daemon.ts');",
      expected: ['../daemon/daemon.ts'],
    },
    {
      desc: 'packages are not edges',
      input: "import Fastify from 'fastify';\nimport { x } from 'node:fs';",
      expected: [],
    },
    {
      desc: 'imports quoted in comments are not edges',
      input: "/**\n * import { A } from './a.ts';\n */\n// import('./b.ts')",
      expected: [],
    },
  ];
  for (const { desc, input, expected } of table) {
    it(desc, () => assert.deepEqual(importsOf(input).sort(), expected.sort()));
  }

  it('finds a cycle of three and a self-import, and none in a tree', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
      ['e', ['e']],
    ]);
    const found = cycles(g).sort((x, y) => x[0].localeCompare(y[0]));
    assert.deepEqual(found, [['a', 'b', 'c'], ['e']]);
    assert.deepEqual(
      cycles(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
      [],
    );
  });
});

describe('architecture: src/', () => {
  const graph = importGraph();

  it('reads the whole tree (a sanity floor, so an empty graph cannot pass)', () => {
    assert.ok(graph.size > 50, `only ${graph.size} files found under src/`);
    assert.ok(graph.get('runtime/mesh-node.ts')?.length, 'the runtime must import something');
  });

  it('every import points at a file that exists', () => {
    const missing: string[] = [];
    for (const [file, deps] of graph) for (const d of deps) if (!graph.has(d)) missing.push(`${file} → ${d}`);
    assert.deepEqual(missing, []);
  });

  it('has no import cycle', () => {
    assert.deepEqual(cycles(graph), []);
  });

  it('has no arrow pointing up the layers (crypto ← protocol ← ports ← adapters ← runtime ← daemon/sim ← cli; web → api only)', () => {
    const wrong: string[] = [];
    for (const [file, deps] of graph) {
      const from = layerOf(file);
      for (const d of deps) {
        const to = layerOf(d);
        if (to !== from && !MAY_IMPORT[from].includes(to)) wrong.push(`${file} (${from}) → ${d} (${to})`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it(`has no source file over ${MAX_LINES} lines`, () => {
    const long: string[] = [];
    for (const file of graph.keys()) {
      const lines = readFileSync(join(SRC, file), 'utf8').split('\n').length - 1;
      if (lines > MAX_LINES) long.push(`${file}: ${lines} lines`);
    }
    assert.deepEqual(long, []);
  });
});
