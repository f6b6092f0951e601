/** Users collection. A user's _id is derived from the email, so lookups by email hit the primary key. */
import type { Collection } from "mongodb";
import type { UsersRepo } from "../domain/ports.ts";
import type { User } from "../domain/types.ts";
import { derivedId } from "./ids.ts";
import type { UserDoc, UserTermDoc } from "./mongo.ts";
import { emailsMatching, indexUserTerms } from "./user-terms.ts";
import { ONE_BATCH } from "./reads.ts";

const userId = (email: string) => derivedId("user", email);

export function toUser(d: UserDoc): User {
  return {
    id: d._id.toHexString(),
    email: d.email,
    name: d.name,
    profile_image: d.profile_image ?? null,
    is_online: d.is_online === true,
    last_seen: d.last_seen ?? null,
  };
}

export function createUsersRepo(users: Collection<UserDoc>, terms: Collection<UserTermDoc>): UsersRepo {
  return {
    async upsertOnLogin({ email, name, profile_image }, overwrite) {
      const now = new Date();
      const onInsert = { email, is_online: false, last_seen: null, created_at: now };
      // A login without profile_image keeps the stored one.
      const profile = profile_image === undefined ? { name } : { name, profile_image };
      const update = overwrite
        ? { $set: profile, $setOnInsert: profile_image === undefined ? { ...onInsert, profile_image: null } : onInsert }
        : { $setOnInsert: { ...onInsert, profile_image: null, ...profile } };
      const doc = await users.findOneAndUpdate({ _id: userId(email) }, update, { upsert: true, returnDocument: "after" });
      if (!doc) throw new Error("user upsert returned nothing");
      await indexUserTerms(users, terms, doc);
      return toUser(doc);
    },
    async findByEmail(email) {
      const d = await users.findOne({ _id: userId(email) });
      return d ? toUser(d) : null;
    },
    async updateProfile(email, changes) {
      const doc = await users.findOneAndUpdate({ _id: userId(email) }, { $set: changes }, { returnDocument: "after" });
      if (!doc) return null;
      await indexUserTerms(users, terms, doc);
      return toUser(doc);
    },
    async search(text, excludeEmail, limit) {
      const emails = (await emailsMatching(terms, text, limit + 1)).filter((e) => e !== excludeEmail).slice(0, limit);
      if (emails.length === 0) return [];
      const docs = await users.find({ _id: { $in: emails.map(userId) } }, ONE_BATCH).toArray();
      return docs.map(toUser).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.email < b.email ? -1 : 1));
    },
    async setPresence(email, online, at) {
      await users.updateOne({ _id: userId(email) }, { $set: { is_online: online, last_seen: at } });
    },
    async findPresence(emails) {
      if (emails.length === 0) return [];
      const docs = await users.find({ _id: { $in: emails.map(userId) } }, ONE_BATCH).toArray();
      return docs.map(toUser);
    },
    async resetAllOffline(at) {
      const r = await users.updateMany({ is_online: true }, { $set: { is_online: false, last_seen: at } });
      return r.modifiedCount;
    },
  };
}
