# Production image. Bring your own MongoDB: set MONGODB_URL (the embedded
# database is a development convenience and is not built into this image).
FROM oven/bun:1.4.5-slim AS deps
WORKDIR /app
COPY package.json bun.lock* package-lock.json* ./
RUN bun install --production --ignore-scripts

FROM oven/bun:1.4.5-slim
WORKDIR /app
ENV NODE_ENV=production PORT=8000 HOST=0.0.0.0
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
USER bun
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD bun -e "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/health').then(r => process.exit(r.ok ? 0 : 1)).catch(() => process.exit(1))"
CMD ["bun", "src/main.ts"]
