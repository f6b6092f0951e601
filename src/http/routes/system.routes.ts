/** GET / and GET /health (reports database reachability; 503 when it is down). */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { okJson } from "../schemas.ts";

const HealthSchema = z
  .object({
    status: z.enum(["ok", "degraded"]),
    database: z.enum(["up", "down"]),
    uptime_s: z.number(),
    connections: z.number().int().openapi({ description: "Open Engine.IO sessions" }),
  })
  .openapi("Health");

const health = createRoute({
  method: "get",
  path: "/health",
  tags: ["system"],
  summary: "Liveness and database reachability",
  responses: { 200: okJson(HealthSchema, "Healthy"), 503: okJson(HealthSchema, "Database unreachable") },
});

const root = createRoute({
  method: "get",
  path: "/",
  tags: ["system"],
  summary: "Service information",
  responses: {
    200: okJson(z.object({ name: z.string(), version: z.string(), docs: z.string(), openapi: z.string() }).openapi("ServiceInfo"), "Service information"),
  },
});

export interface SystemDeps {
  version: string;
  pingDb(): Promise<boolean>;
  connections(): number;
}

export function systemRoutes(deps: SystemDeps) {
  const started = Date.now();
  return new OpenAPIHono()
    .openapi(root, (c) => c.json({ name: "chat-backend", version: deps.version, docs: "/docs", openapi: "/openapi.json" }, 200))
    .openapi(health, async (c) => {
      const up = await deps.pingDb();
      const body = {
        status: up ? ("ok" as const) : ("degraded" as const),
        database: up ? ("up" as const) : ("down" as const),
        uptime_s: Math.round((Date.now() - started) / 1000),
        connections: deps.connections(),
      };
      return up ? c.json(body, 200) : c.json(body, 503);
    });
}
