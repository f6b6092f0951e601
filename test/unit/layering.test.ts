/** Enforces DESIGN.md's layering by scanning imports in src/: each layer only imports downward. */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const SRC = join(import.meta.dir, "../../src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

const importsOf = (file: string) =>
  [...readFileSync(file, "utf8").matchAll(/^\s*(?:import|export)[^"']*?from\s+["']([^"']+)["']/gm)].map((m) => m[1]!);

/** folder prefix → import specifiers (substrings of a resolved path or package names) it must not use */
const RULES: [string, RegExp][] = [
  ["domain/", /(^hono|^@hono|^mongodb$|\/http\/|\/db\/|\/realtime\/|\/embedded-db\/|\/metrics\/|^prom-client$)/],
  ["realtime/engine/", /(\/domain\/|\/http\/|\/db\/|\/socketio\/|chat-|^hono|^mongodb$|\/metrics\/|^prom-client$)/],
  ["realtime/socketio/", /(\/domain\/|\/http\/|\/db\/|chat-|^hono|^mongodb$|\/metrics\/|^prom-client$)/],
  ["db/", /(\/http\/|\/realtime\/|^hono|^@hono)/],
  ["http/", /(\/db\/|\/realtime\/|^mongodb$)/],
];

test("imports point downward only", () => {
  const violations: string[] = [];
  for (const file of files(SRC)) {
    const rel = relative(SRC, file);
    for (const [prefix, banned] of RULES) {
      if (!rel.startsWith(prefix)) continue;
      for (const spec of importsOf(file)) {
        const resolved = spec.startsWith(".") ? `/${relative(SRC, join(file, "..", spec))}` : spec;
        if (banned.test(resolved)) violations.push(`${rel} imports ${spec}`);
      }
    }
  }
  expect(violations).toEqual([]);
});

test("ObjectId never leaves src/db", () => {
  const leaks = files(SRC)
    .filter((f) => !relative(SRC, f).startsWith("db/"))
    .filter((f) => /import[^;]*\bObjectId\b|new ObjectId\(/.test(readFileSync(f, "utf8")));
  expect(leaks.map((f) => relative(SRC, f))).toEqual([]);
});
