/** The MongoDB client and the collections with their document shapes. */
import { MongoClient, type Collection, type Db, type MongoClientOptions, type ObjectId } from "mongodb";

export interface UserDoc {
  _id: ObjectId;
  email: string;
  name: string;
  profile_image: string | null;
  is_online: boolean;
  last_seen: Date | null;
  created_at: Date;
}

export interface ConversationDoc {
  _id: ObjectId;
  /** Sorted pair of emails; index i owns unread[i] and last_read_at[i]. */
  participants: [string, string];
  direct_key: string;
  conversation_type: "direct";
  created_at: Date;
  last_message: string | null;
  last_message_time: Date | null;
  last_message_sender: string | null;
  /** last_message_time, or created_at before the first message: the list's sort key. */
  last_activity: Date;
  last_seq: number;
  unread: [number, number];
  last_read_at: [Date | null, Date | null];
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
}

export interface Collections {
  users: Collection<UserDoc>;
  conversations: Collection<ConversationDoc>;
  messages: Collection<MessageDoc>;
}

export interface Database {
  client: MongoClient;
  db: Db;
  collections: Collections;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** `extra`: e.g. `monitorCommands: true` for the metrics' command timings. */
export async function connectDatabase(url: string, dbName: string, extra: Pick<MongoClientOptions, "monitorCommands"> = {}): Promise<Database> {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: 5000,
    connectTimeoutMS: 5000,
    maxPoolSize: 50,
    ...extra,
  });
  await client.connect();
  const db = client.db(dbName);
  return {
    client,
    db,
    collections: {
      users: db.collection<UserDoc>("users"),
      conversations: db.collection<ConversationDoc>("conversations"),
      messages: db.collection<MessageDoc>("chat_messages"),
    },
    async ping() {
      try {
        await db.command({ ping: 1 }, { timeoutMS: 2000 });
        return true;
      } catch {
        return false;
      }
    },
    close: () => client.close(),
  };
}
