/**
 * A user's conversation list from its two parts: the user's membership documents (which conversations, and the
 * user's read pointer in each) and the conversations themselves as stored, read without a reader (a group's
 * `unread_count` is the reader's, so it is filled in here). Shared by the repository and its list cache, so
 * both answer exactly alike.
 */
import { byActivity } from "./conversation-order.ts";
import { groupUnread } from "./group-read-states.ts";
import type { Conversation, Membership } from "./types.ts";

export function assembleList(email: string, memberships: Membership[], stored: (id: string) => Conversation | undefined): Conversation[] {
  const out: Conversation[] = [];
  for (const m of memberships) {
    const c = stored(m.conversation_id);
    // A member doc may briefly outlive (or precede) the membership itself: the conversation's list decides.
    if (!c || c.closed || !c.participants.includes(email)) continue;
    out.push(c.conversation_type === "group" ? { ...c, unread_count: { [email]: groupUnread(c.last_seq, m) } } : c);
  }
  return out.sort(byActivity);
}
