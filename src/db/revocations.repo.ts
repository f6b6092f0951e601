/**
 * Token revocations (logout), keyed by the token's `jti`. A TTL index on
 * `expires_at` removes each one once its token has expired anyway (or the
 * purge in listActive, on servers without TTL indexes).
 */
import type { Collection } from "mongodb";
import type { RevocationsRepo } from "../auth/revocations.ts";
import { ONE_BATCH } from "./reads.ts";

export interface RevocationDoc {
  _id: string;
  email: string;
  expires_at: Date;
  revoked_at: Date;
}

export function createRevocationsRepo(col: Collection<RevocationDoc>): RevocationsRepo {
  return {
    async insert(jti, email, expiresAt) {
      // Upsert: revoking twice (two logouts with one token) is not an error.
      await col.updateOne(
        { _id: jti },
        { $setOnInsert: { email, expires_at: expiresAt, revoked_at: new Date() } },
        { upsert: true },
      );
    },
    async remove(jti) {
      await col.deleteOne({ _id: jti });
    },
    async listActive(now) {
      // Where TTL indexes are not supported (FerretDB), expired revocations go here, at each start.
      await col.deleteMany({ expires_at: { $lte: now } });
      const docs = await col.find({ expires_at: { $gt: now } }, ONE_BATCH).toArray();
      return docs.map((d) => ({ jti: d._id, expiresAt: d.expires_at }));
    },
  };
}
