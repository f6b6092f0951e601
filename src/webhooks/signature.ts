/**
 * Webhook signatures, the convention Stripe and others use:
 * `X-Chat-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
 * The timestamp inside the signed text lets a receiver refuse replays of old
 * deliveries (verify's tolerance); comparison is constant-time.
 * @see https://docs.stripe.com/webhooks#verify-manually
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "X-Chat-Signature";

const hmac = (secret: string, t: number, body: string) => createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");

export function signatureHeader(secret: string, body: string, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${hmac(secret, t, body)}`;
}

/** For receivers (and tests): true when `header` signs `body` with `secret` and its timestamp is within `toleranceS` of now. */
export function verifySignature(secret: string, header: string | null, body: string, toleranceS = 300, now = Date.now()): boolean {
  if (!header) return false;
  const parts = new Map(header.split(",").map((p) => p.split("=", 2) as [string, string]));
  const t = Number(parts.get("t"));
  const v1 = parts.get("v1");
  if (!Number.isInteger(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) return false;
  if (Math.abs(now / 1000 - t) > toleranceS) return false;
  return timingSafeEqual(Buffer.from(v1, "hex"), Buffer.from(hmac(secret, t, body), "hex"));
}
