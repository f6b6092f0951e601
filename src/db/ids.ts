/**
 * ObjectId handling, kept inside src/db.
 * Deterministic ids (a hash of a natural key) make "find or create" a lookup by
 * _id, the one query every MongoDB-wire server answers from its primary key
 * (FerretDB on SQLite pushes down nothing else), and make duplicates collide on
 * _id, which every server rejects atomically with E11000.
 */
import { createHash } from "node:crypto";
import { ObjectId } from "mongodb";

const keyHash = (kind: string, key: string[]) => createHash("sha256").update(kind).update("\0").update(key.join("\0")).digest();

export function derivedId(kind: string, ...key: string[]): ObjectId {
  return new ObjectId(keyHash(kind, key).subarray(0, 12));
}

/**
 * A derived id that starts with `at`'s second (like an ObjectId's own timestamp), then 8 bytes of the key's hash:
 * still a function of the key (and time), but ids written over time go to the end of the _id index instead of
 * random pages of it.
 */
export function timeOrderedDerivedId(at: Date, kind: string, ...key: string[]): ObjectId {
  const id = Buffer.alloc(12);
  id.writeUInt32BE(Math.floor(at.getTime() / 1000) >>> 0, 0);
  keyHash(kind, key).copy(id, 4, 0, 8);
  return new ObjectId(id);
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
