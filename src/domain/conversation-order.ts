/**
 * The order of a user's conversations: by last activity, ties broken by id, so
 * the order is total and a cursor (activity, id) names one position in it.
 */
type Ordered = { last_activity: Date; id: string };

const compare = (x: Ordered, y: Ordered) =>
  x.last_activity.getTime() - y.last_activity.getTime() || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);

/** Most recent activity first (the conversation list). */
export const byActivity = (x: Ordered, y: Ordered) => compare(y, x);

/** Oldest activity first (sync pages: what changed first comes first). */
export const byActivityAscending = compare;
