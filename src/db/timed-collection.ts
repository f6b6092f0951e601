/**
 * Times the database commands a collection runs, for the metrics, without the driver's command monitoring.
 *
 * Why: with `monitorCommands` the driver decodes every reply a second time, whole, to put it in the
 * `commandSucceeded` event, even though only its duration is wanted here. For a list of 200 conversations that
 * was 1.2–2 ms of CPU per request (measured on the seeded million-message database: 2.3–3.5 ms of client CPU per
 * list without monitoring, 3.8–5.5 ms with). This wraps the collection instead: each method is timed from call to
 * settle, under the name of the wire command it sends. Cursors are timed in `toArray`, the way repositories read
 * (see reads.ts); a cursor iterated otherwise (the start-up backfills) is not timed.
 */
import type { Collection, Document } from "mongodb";

export type CommandObserver = (command: string, seconds: number, failed: boolean) => void;

/** Collection method → the wire command it sends. */
const COMMAND_OF: Record<string, string> = {
  findOne: "find",
  insertOne: "insert",
  insertMany: "insert",
  updateOne: "update",
  updateMany: "update",
  replaceOne: "update",
  deleteOne: "delete",
  deleteMany: "delete",
  findOneAndUpdate: "findAndModify",
  findOneAndReplace: "findAndModify",
  findOneAndDelete: "findAndModify",
  countDocuments: "aggregate",
  estimatedDocumentCount: "count",
  distinct: "distinct",
  bulkWrite: "bulkWrite",
  createIndex: "createIndexes",
  createIndexes: "createIndexes",
  dropIndex: "dropIndexes",
  indexes: "listIndexes",
};
/** Methods that return a cursor, timed in its `toArray`. */
const CURSOR_COMMAND_OF: Record<string, string> = { find: "find", aggregate: "aggregate" };

function timed<T>(command: string, observe: CommandObserver, run: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  return run().then(
    (v) => {
      observe(command, (performance.now() - t0) / 1000, false);
      return v;
    },
    (err: unknown) => {
      observe(command, (performance.now() - t0) / 1000, true);
      throw err;
    },
  );
}

function timedCursor<C extends object>(cursor: C, command: string, observe: CommandObserver): C {
  return new Proxy(cursor, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop !== "toArray" || typeof value !== "function") return value;
      return (...args: unknown[]) => timed(command, observe, () => value.apply(target, args));
    },
  });
}

export function timedCollection<T extends Document>(col: Collection<T>, observe: CommandObserver): Collection<T> {
  return new Proxy(col, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof prop !== "string" || typeof value !== "function") return value;
      const command = COMMAND_OF[prop];
      if (command) return (...args: unknown[]) => timed(command, observe, () => value.apply(target, args));
      const cursorCommand = CURSOR_COMMAND_OF[prop];
      if (cursorCommand) return (...args: unknown[]) => timedCursor(value.apply(target, args), cursorCommand, observe);
      return value;
    },
  });
}
