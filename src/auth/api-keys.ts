/**
 * AUTH_MODE=trusted: the host backend proves itself with `X-API-Key`. Keys are
 * compared in constant time (both sides hashed to equal length, every
 * configured key checked, no early exit), so timing reveals nothing about them.
 * Several keys at once allow rotation.
 */
import { timingSafeEqual } from "node:crypto";

const digest = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest();

export function createApiKeyCheck(keys: string[]): (presented: string | null | undefined) => boolean {
  const expected = keys.map(digest);
  return (presented) => {
    const got = digest(presented ?? "");
    let ok = false;
    for (const k of expected) ok = timingSafeEqual(k, got) || ok;
    return ok && typeof presented === "string" && presented.length > 0;
  };
}
