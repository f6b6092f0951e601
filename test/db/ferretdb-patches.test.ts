/**
 * The unified diffs in tools/ferretdb/patches.json apply exactly once, or the
 * build stops: a hunk whose old lines are missing or ambiguous, or a new file
 * that already exists, is an error naming the patch.
 */
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyUnifiedDiff } from "../../src/embedded-db/ferretdb-binary.ts";

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
