/** REST helpers for tests: requests through the app without a port. */
import type { TestServer } from "./server.ts";

export interface TestUser {
  email: string;
  name: string;
  token: string;
}

export async function api(
  s: TestServer,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers["content-type"] ??= "application/json";
  const res = await s.app.request(path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed, headers: res.headers };
}

export async function login(s: TestServer, email: string, name = email.split("@")[0] ?? "user"): Promise<TestUser> {
  const r = await api(s, "POST", "/api/auth/login", { body: { email, name } });
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { email: email.toLowerCase(), name, token: r.body.access_token };
}
