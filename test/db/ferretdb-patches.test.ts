/**
 * The unified diffs in tools/ferretdb/patches.json apply exactly once, or the
 * build stops: a hunk whose old lines are missing or ambiguous, or a new file
 * that already exists, is an error naming the patch.
 */
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyUnifiedDiff, patchedModules, type Patches } from "../../src/embedded-db/ferretdb-binary.ts";

const original = ["package x", "", "func a() int {", "\treturn 1", "}", "", "func b() int {", "\treturn 2", "}", ""].join("\n");

const edit = `diff --git a/x.go b/x.go
index 1111111..2222222 100644
--- a/x.go
+++ b/x.go
@@ -2,4 +2,5 @@ package x
 
 func a() int {
-\treturn 1
+\t// patched
+\treturn 10
 }
@@ -7,3 +8,3 @@ func a() int {
 func b() int {
-\treturn 2
+\treturn 20
 }
diff --git a/sub/new.go b/sub/new.go
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/sub/new.go
@@ -0,0 +1,2 @@
+package sub
+// new
`;

function dir() {
  const d = mkdtempSync(join(tmpdir(), "ferret-patch-"));
  writeFileSync(join(d, "x.go"), original);
  return d;
}

test("a unified diff applies its hunks (line numbers ignored) and creates new files", () => {
  const d = dir();
  applyUnifiedDiff(d, edit, "edit.diff");
  expect(readFileSync(join(d, "x.go"), "utf8")).toBe(original.replace("\treturn 1", "\t// patched\n\treturn 10").replace("\treturn 2", "\treturn 20"));
  expect(readFileSync(join(d, "sub/new.go"), "utf8")).toBe("package sub\n// new\n");
});

test("a diff that no longer applies stops the build, naming the patch and the hunk", () => {
  const d = dir();
  applyUnifiedDiff(d, edit, "edit.diff");
  // Applied twice: the old lines are gone.
  expect(() => applyUnifiedDiff(d, edit, "edit.diff")).toThrow(/edit\.diff: hunk "@@ -2,4 \+2,5 @@ package x" of x\.go occurs 0 times/);
  // Old lines that occur twice are ambiguous.
  const twice = dir();
  writeFileSync(join(twice, "x.go"), original + original);
  expect(() => applyUnifiedDiff(twice, edit, "edit.diff")).toThrow(/occurs 2 times, expected exactly once/);
  // A file the diff creates must not exist yet.
  const exists = dir();
  const onlyNew = edit.slice(edit.indexOf("diff --git a/sub/new.go"));
  applyUnifiedDiff(exists, onlyNew, "new.diff");
  expect(() => applyUnifiedDiff(exists, onlyNew, "new.diff")).toThrow(/new\.diff no longer applies: sub\/new\.go already exists/);
  // A file the diff changes must exist.
  expect(() => applyUnifiedDiff(mkdtempSync(join(tmpdir(), "ferret-patch-")), edit, "edit.diff")).toThrow(/x\.go does not exist/);
});

test("patches to dependency modules are grouped per module and version; the project's patches.json names wire v0.0.8", () => {
  const spec: Patches = {
    module: "github.com/FerretDB/FerretDB",
    version: "v1.24.2",
    patches: [
      { why: "a", diff: "a.diff" },
      { why: "b", module: "github.com/FerretDB/wire", version: "v0.0.8", diff: "b.diff" },
      { why: "c", file: "x.go", from: "1", to: "2" },
      { why: "d", module: "github.com/FerretDB/wire", diff: "d.diff" },
    ],
  };
  const m = patchedModules(spec, "/c");
  expect([...m.keys()]).toEqual(["github.com/FerretDB/FerretDB", "github.com/FerretDB/wire"]);
  expect(m.get("github.com/FerretDB/FerretDB")).toMatchObject({ version: "v1.24.2", dir: "/c/src-v1.24.2" });
  expect(m.get("github.com/FerretDB/FerretDB")!.patches.map((p) => p.why)).toEqual(["a", "c"]);
  expect(m.get("github.com/FerretDB/wire")).toMatchObject({ version: "v0.0.8", dir: "/c/src-wire-v0.0.8" });
  expect(m.get("github.com/FerretDB/wire")!.patches.map((p) => p.why)).toEqual(["b", "d"]);

  // A dependency patch must say which version it patches, and only one.
  expect(() => patchedModules({ ...spec, patches: [{ why: "x", module: "example.com/m", diff: "x.diff" }] }, "/c")).toThrow(/example\.com\/m has no version/);
  expect(() => patchedModules({ ...spec, patches: [spec.patches[1]!, { ...spec.patches[1]!, version: "v0.0.9" }] }, "/c")).toThrow(/two versions: v0\.0\.8 and v0\.0\.9/);
  expect(() => patchedModules({ ...spec, patches: [{ why: "x", version: "v1.24.3", diff: "x.diff" }] }, "/c")).toThrow(/two versions: v1\.24\.2 and v1\.24\.3/);

  const project = JSON.parse(readFileSync(join(import.meta.dir, "../../tools/ferretdb/patches.json"), "utf8")) as Patches;
  const wire = patchedModules(project, "/c").get("github.com/FerretDB/wire");
  expect(wire?.version).toBe("v0.0.8");
  expect(wire?.patches.map((p) => ("diff" in p ? p.diff : ""))).toEqual(["patches/wire-no-reply-recheck.diff"]);
});
