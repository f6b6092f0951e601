/**
 * ObjectId handling, kept inside src/db.
 * Deterministic ids (a hash of a natural key) make "find or create" a lookup by
 * _id, the one query every MongoDB-wire server answers from its primary key
 * (FerretDB on SQLite pushes down nothing else), and make duplicates collide on
 * _id, which every server rejects atomically with E11000.
 */
import { createHash } from "node:crypto";
import { ObjectId } from "mongodb";

export function derivedId(kind: string, ...key: string[]): ObjectId {
  const h = createHash("sha256").update(kind).update("\0").update(key.join("\0")).digest();
  return new ObjectId(h.subarray(0, 12));
}

/** Parses a client-supplied id; null when it is not a 24-hex ObjectId (callers answer "not found"). */
export function parseId(id: string): ObjectId | null {
  return /^[0-9a-fA-F]{24}$/.test(id) ? new ObjectId(id) : null;
}

export const isDuplicateKey = (e: unknown): boolean =>
  typeof e === "object" && e !== null && (e as { code?: unknown }).code === 11000;

/**
 * The positions of the documents an unordered insertMany refused as duplicate keys, or null
 * when the error is anything else (then the caller rethrows it).
 */
export function duplicatePositions(e: unknown): number[] | null {
  const errors = (e as { writeErrors?: unknown }).writeErrors;
  const list = (Array.isArray(errors) ? errors : errors ? [errors] : []) as { index: number; code?: number }[];
  if (list.length === 0 || !list.every((w) => w.code === 11000)) return null;
  return list.map((w) => w.index);
}
