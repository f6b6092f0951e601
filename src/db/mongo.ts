/** The MongoDB client and the collections with their document shapes. */
import { MongoClient, type Collection, type Db, type Document, type ObjectId } from "mongodb";
import { monitorDbHealth, type DbHealth } from "./health.ts";
import { timedCollection, type CommandObserver } from "./timed-collection.ts";
import type { FailedDelivery, PendingDelivery } from "../domain/webhook-outbox.ts";
import type { MessageTermDoc } from "./message-terms.ts";
import type { RevocationDoc } from "./revocations.repo.ts";

export interface UserDoc {
  _id: ObjectId;
  email: string;
  name: string;
  profile_image: string | null;
  is_online: boolean;
  last_seen: Date | null;
  created_at: Date;
  /** The name the search terms were built from (user-terms.ts); absent before they exist. */
  terms_name?: string;
  /** Disabled by the host (admin API); absent: enabled. */
  disabled?: boolean;
}

export interface ConversationDoc {
  _id: ObjectId;
  /**
   * Direct: the sorted pair of emails; index i owns unread[i] and last_read_at[i].
   * Group: the members in join order; roles[i] is participants[i]'s role.
   */
  participants: string[];
  /** Direct conversations only. */
  direct_key?: string;
  /** Absent in data of earlier versions, which only had direct conversations. */
  conversation_type?: "direct" | "group";
  title?: string;
  roles?: ("owner" | "admin" | "member")[];
  /** Groups: incremented by every membership change (optimistic concurrency). */
  version?: number;
  closed?: boolean;
  created_at: Date;
  last_message: string | null;
  last_message_time: Date | null;
  last_message_sender: string | null;
  /** last_message_time, or created_at before the first message: the list's sort key. */
  last_activity: Date;
  last_seq: number;
  /** Messages stored (last_seq may run ahead of it by seqs left unused); absent in data of earlier versions. */
  message_count?: number;
  /** Direct conversations only (groups derive unread counts from the members' read pointers). */
  unread?: [number, number];
  last_read_at?: [Date | null, Date | null];
}

/**
 * One document per (conversation, member): how a user's conversations are found
 * by an index on a scalar field (`participants` is an array, and array fields
 * cannot be pushed down to FerretDB's SQLite indexes).
 */
export interface MemberDoc {
  _id: ObjectId;
  user: string;
  conversation_id: string;
  joined_at: Date;
  /** Read pointer: every message up to this seq is read (absent: 0, or the direct unread array rules). */
  last_read_seq?: number;
  read_at?: Date | null;
  /** Messages this member sent after their read pointer (groups: unread = last_seq - last_read_seq - this). */
  own_since_read?: number;
}

/** One search term of a user (see user-terms.ts). */
export interface UserTermDoc {
  _id: ObjectId;
  term: string;
  email: string;
}

/** Markers of one-time data migrations already done. */
export interface MetaDoc {
  _id: string;
  done_at: Date;
}

export interface MessageDoc {
  _id: ObjectId;
  conversation_id: string;
  seq: number;
  sender_email: string;
  sender_name: string;
  message: string;
  message_type: string;
  timestamp: Date;
  edited: boolean;
  edited_at: Date | null;
  reply_to: string | null;
  client_id: string | null;
  deleted?: boolean;
  reactions?: { emoji: string; users: string[] }[];
  /** Bumped by every reaction change (compare-and-set). */
  reactions_rev?: number;
  /** Webhook outbox: deliveries still to make, and when the next attempt is due (absent: none pending). */
  webhooks?: PendingDelivery[];
  webhook_due?: Date;
  /** Deliveries given up after WEBHOOK_RETRY_FOR_MS. */
  webhook_failures?: FailedDelivery[];
}

export interface Collections {
  users: Collection<UserDoc>;
  conversations: Collection<ConversationDoc>;
  messages: Collection<MessageDoc>;
  members: Collection<MemberDoc>;
  userTerms: Collection<UserTermDoc>;
  meta: Collection<MetaDoc>;
  revocations: Collection<RevocationDoc>;
  messageTerms: Collection<MessageTermDoc>;
}

export interface Database {
  client: MongoClient;
  db: Db;
  collections: Collections;
  /** Cached reachability (see health.ts): answers at once. */
  health: DbHealth;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Timeouts are short so that a database outage turns into prompt DATABASE_UNAVAILABLE answers instead
 * of a pile-up of waiting operations; the driver reconnects by itself when the database is back.
 * `observe`: told the duration of every command the collections run (the metrics; see timed-collection.ts).
 */
export async function connectDatabase(
  url: string,
  dbName: string,
  onHealthChange?: (up: boolean) => void,
  observe?: CommandObserver,
): Promise<Database> {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: 2000,
    connectTimeoutMS: 2000,
    heartbeatFrequencyMS: 2000,
    maxPoolSize: 50,
  });
  await client.connect();
  const db = client.db(dbName);
  const health = monitorDbHealth(db, {
    onChange: onHealthChange,
    // Rebuild the connection when the database stays away (see health.ts): the same client connects anew,
    // and the collections the repositories hold go through it.
    onStuck: async () => {
      await client.close(true).catch(() => {});
      await client.connect();
    },
  });
  const collection = <T extends Document>(name: string) => {
    const col = db.collection<T>(name);
    return observe ? timedCollection(col, observe) : col;
  };
  return {
    client,
    db,
    collections: {
      users: collection<UserDoc>("users"),
      conversations: collection<ConversationDoc>("conversations"),
      messages: collection<MessageDoc>("chat_messages"),
      members: collection<MemberDoc>("conversation_members"),
      userTerms: collection<UserTermDoc>("user_terms"),
      meta: collection<MetaDoc>("meta"),
      revocations: collection<RevocationDoc>("token_revocations"),
      messageTerms: collection<MessageTermDoc>("message_terms"),
    },
    health,
    ping: () => health.check(),
    close: () => {
      health.close();
      return client.close();
    },
  };
}
