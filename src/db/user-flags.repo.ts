/** The admin API's flags on a user document (`disabled`), reached by the _id derived from the email. */
import type { Collection } from "mongodb";
import type { UserFlagsRepo } from "../domain/user-admin.service.ts";
import { derivedId } from "./ids.ts";
import type { UserDoc } from "./mongo.ts";
import { ONE_BATCH } from "./reads.ts";

const userId = (email: string) => derivedId("user", email);

export function createUserFlagsRepo(users: Collection<UserDoc>): UserFlagsRepo {
  return {
    async setDisabled(email, disabled) {
      const r = await users.updateOne({ _id: userId(email) }, { $set: { disabled } });
      return r.matchedCount === 1;
    },
    async disabledAmong(emails) {
      if (emails.length === 0) return new Set();
      const docs = await users.find({ _id: { $in: emails.map(userId) }, disabled: true }, { projection: { email: 1 }, ...ONE_BATCH }).toArray();
      return new Set(docs.map((d) => d.email));
    },
  };
}
