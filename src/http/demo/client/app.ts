/// <reference lib="dom" />
/// <reference lib="dom.asynciterable" />
/**
 * The /demo single-page client: sign in (open mode) or paste a token, the
 * conversation list with unread badges and online dots, history with scroll-up
 * paging, send, typing indicator and read marks. Plain DOM, typed with the
 * server's own event types; bundled by Bun.build with socket.io-client.
 */
import { io, type Socket } from "socket.io-client";
import type { ConversationView, MessageView } from "../../../domain/views.ts";
import type { ClientToServerEvents, ServerToClientEvents } from "../../../events.ts";

type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
const PAGE = 30;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const state = {
  token: "",
  me: { email: "", name: "" },
  socket: null as ChatSocket | null,
  conversations: new Map<string, ConversationView>(),
  current: null as string | null,
  messages: [] as MessageView[],
  hasMore: false,
  loadingOlder: false,
  online: new Set<string>(),
  typing: new Map<string, string>(),
  readAt: new Map<string, string>(),
};

async function api<T>(method: string, path: string, body?: unknown): Promise<{ data: T; headers: Headers }> {
  const res = await fetch(path, {
    method,
    headers: { "content-type": "application/json", ...(state.token ? { authorization: `Bearer ${state.token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json();
  if (!res.ok) throw new Error(data?.error?.message ?? `HTTP ${res.status}`);
  return { data: data as T, headers: res.headers };
}

const other = (c: ConversationView) => c.participants.find((p) => p !== state.me.email) ?? c.participants[0];
const el = (tag: string, cls: string, text = "") => Object.assign(document.createElement(tag), { className: cls, textContent: text });

function renderList(): void {
  const list = $("convs");
  list.replaceChildren();
  const sorted = [...state.conversations.values()].sort((a, b) => (b.last_message_time ?? b.created_at).localeCompare(a.last_message_time ?? a.created_at));
  for (const c of sorted) {
    const peer = other(c) ?? "";
    const li = el("li", `conv${c.id === state.current ? " active" : ""}`);
    li.dataset.id = c.id;
    // A group shows its title; a direct conversation the other participant (with their presence dot).
    li.append(el("span", `dot${state.online.has(peer) ? " online" : ""}`), el("span", "peer", c.conversation_type === "group" ? (c.title ?? "") : peer));
    const unread = c.unread_count[state.me.email] ?? 0;
    if (unread > 0) li.append(el("span", "badge", String(unread)));
    li.append(el("div", "preview", state.typing.has(c.id) ? "typing…" : (c.last_message ?? "")));
    li.onclick = () => void open(c.id);
    list.append(li);
  }
}

function renderMessages(keepBottom = true): void {
  const box = $("history");
  const fromBottom = box.scrollHeight - box.scrollTop;
  box.replaceChildren();
  if (state.hasMore) box.append(el("div", "older", "scroll up for older messages"));
  const read = state.current ? state.readAt.get(state.current) : undefined;
  for (const m of state.messages) {
    const mine = m.sender_email === state.me.email;
    const row = el("div", `msg ${mine ? "mine" : "theirs"}`);
    row.append(el("div", "text", m.message));
    const meta = new Date(m.timestamp).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    row.append(el("div", "meta", mine ? `${meta} ${read && read >= m.timestamp ? "✓✓ read" : "✓"}` : meta));
    box.append(row);
  }
  box.scrollTop = keepBottom ? box.scrollHeight : box.scrollHeight - fromBottom;
  const peer = state.current ? other(state.conversations.get(state.current)!) : "";
  $("typing").textContent = state.current && state.typing.has(state.current) ? `${peer} is typing…` : "";
}

async function open(id: string): Promise<void> {
  state.current = id;
  const c = state.conversations.get(id)!;
  $("title").textContent = other(c) ?? "";
  $("composer").hidden = false;
  const { data, headers } = await api<MessageView[]>("GET", `/api/conversations/${id}/messages?skip=0&limit=${PAGE}`);
  state.messages = data;
  state.hasMore = headers.get("x-has-more") === "true";
  renderMessages();
  await markRead();
}

async function loadOlder(): Promise<void> {
  if (!state.current || !state.hasMore || state.loadingOlder) return;
  state.loadingOlder = true;
  const { data, headers } = await api<MessageView[]>("GET", `/api/conversations/${state.current}/messages?skip=${state.messages.length}&limit=${PAGE}`);
  state.messages = [...data, ...state.messages];
  state.hasMore = headers.get("x-has-more") === "true";
  state.loadingOlder = false;
  renderMessages(false);
}

async function markRead(): Promise<void> {
  const c = state.current ? state.conversations.get(state.current) : undefined;
  if (!c || !state.socket || (c.unread_count[state.me.email] ?? 0) === 0) return renderList();
  await state.socket.timeout(5000).emitWithAck("mark_as_read", { conversation_id: c.id });
}

/** Loads started, and the newest applied: a slower, older answer never replaces a newer one. */
let loadsStarted = 0;
let loadApplied = 0;

async function loadConversations(): Promise<void> {
  const mine = ++loadsStarted;
  const { data } = await api<ConversationView[]>("GET", "/api/conversations");
  if (mine < loadApplied) return;
  loadApplied = mine;
  state.conversations = new Map(data.map((c) => [c.id, c]));
  renderList();
  // A new conversation makes a new contact, whose presence we were not told about: ask again.
  if (state.socket?.connected) await refreshOnline();
}

async function refreshOnline(): Promise<void> {
  const r = await state.socket!.timeout(5000).emitWithAck("get_online_users");
  if (r.ok) state.online = new Set(r.users);
  renderList();
}

function connect(): void {
  const socket: ChatSocket = io({ auth: { token: state.token } });
  state.socket = socket;
  socket.on("connect", async () => {
    $("status").textContent = "online";
    await refreshOnline();
  });
  socket.on("disconnect", () => void ($("status").textContent = "reconnecting…"));
  socket.on("new_message", (m) => {
    const c = state.conversations.get(m.conversation_id);
    if (!c) return void loadConversations();
    Object.assign(c, { last_message: m.message, last_message_time: m.timestamp, last_message_sender: m.sender_email });
    if (m.conversation_id === state.current && !state.messages.some((x) => x.id === m.id)) {
      state.messages.push(m);
      renderMessages();
      if (m.sender_email !== state.me.email) void markRead();
    }
    renderList();
  });
  socket.on("message_notification", (n) => {
    const c = state.conversations.get(n.conversation_id);
    // Not listed yet (a new conversation whose list is loading): load again, the answer includes this message.
    if (!c) return void loadConversations();
    c.unread_count[state.me.email] = n.unread_count;
    if (n.conversation_id === state.current) void markRead();
    renderList();
  });
  socket.on("marked_as_read", (r) => {
    const c = state.conversations.get(r.conversation_id);
    if (c) c.unread_count[state.me.email] = r.unread_count;
    renderList();
  });
  // Groups: joined, changed or left elsewhere (another tab, another member).
  socket.on("conversation_created", () => void loadConversations());
  socket.on("conversation_updated", () => void loadConversations());
  socket.on("conversation_removed", ({ conversation_id }) => {
    state.conversations.delete(conversation_id);
    renderList();
  });
  socket.on("messages_read", (r) => {
    state.readAt.set(r.conversation_id, r.read_at);
    if (r.conversation_id === state.current) renderMessages();
  });
  socket.on("user_typing", (t) => {
    if (t.typing) state.typing.set(t.conversation_id, t.user_email);
    else state.typing.delete(t.conversation_id);
    renderList();
    if (t.conversation_id === state.current) $("typing").textContent = t.typing ? `${t.user_email} is typing…` : "";
  });
  socket.on("user_online", (u) => (state.online.add(u.email), renderList()));
  socket.on("user_offline", (u) => (state.online.delete(u.email), renderList()));
  socket.on("error", (e) => void ($("status").textContent = `${e.event}: ${e.message}`));
}

let typingTimer: ReturnType<typeof setTimeout> | undefined;
function typed(): void {
  const id = state.current;
  if (!id || !state.socket) return;
  if (!typingTimer) state.socket.emit("typing_start", { conversation_id: id }, () => {});
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => {
    typingTimer = undefined;
    state.socket?.emit("typing_stop", { conversation_id: id }, () => {});
  }, 1500);
}

async function send(text: string): Promise<void> {
  const c = state.current ? state.conversations.get(state.current) : undefined;
  if (!c || !state.socket || !text.trim()) return;
  if (typingTimer) {
    clearTimeout(typingTimer);
    typingTimer = undefined;
    state.socket.emit("typing_stop", { conversation_id: c.id }, () => {});
  }
  const ack = await state.socket.timeout(5000).emitWithAck("send_message", { conversation_id: c.id, message: text, client_id: crypto.randomUUID() });
  if (!ack.ok) $("status").textContent = ack.error.message;
}

async function signedIn(): Promise<void> {
  $("login").hidden = true;
  $("chat").hidden = false;
  $("me").textContent = `${state.me.name} <${state.me.email}>`;
  await loadConversations();
  connect();
}

$("login-form").onsubmit = async (e) => {
  e.preventDefault();
  const f = new FormData(e.target as HTMLFormElement);
  try {
    const r = await api<{ access_token: string; user: { email: string; name: string } }>("POST", "/api/auth/login", { email: f.get("email"), name: f.get("name") });
    state.token = r.data.access_token;
    state.me = r.data.user;
    await signedIn();
  } catch (err) {
    $("login-error").textContent = (err as Error).message;
  }
};
$("token-form").onsubmit = async (e) => {
  e.preventDefault();
  state.token = String(new FormData(e.target as HTMLFormElement).get("token")).trim();
  try {
    state.me = (await api<{ email: string; name: string }>("GET", "/api/users/me")).data;
    await signedIn();
  } catch (err) {
    $("login-error").textContent = (err as Error).message;
  }
};
$("new-form").onsubmit = async (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>("new-email");
  try {
    const { data } = await api<ConversationView>("POST", "/api/conversations/start", { to_email: input.value });
    input.value = "";
    await loadConversations();
    await open(data.id);
  } catch (err) {
    $("status").textContent = (err as Error).message;
  }
};
$("composer").onsubmit = async (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>("text");
  const text = input.value;
  input.value = "";
  await send(text);
};
$("text").oninput = typed;
$("history").onscroll = () => {
  if ($("history").scrollTop < 40) void loadOlder();
};
