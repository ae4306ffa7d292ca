# The reference worker (the support workflows on Governor), compiled: TypeScript is built in the first stage, the
# image runs plain JavaScript on Node 22 as the unprivileged `node` user. Build context: the repository root (see
# docker-compose.yml).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.deploy.json ./
COPY types ./types
COPY contracts ./contracts
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY client ./client
COPY testing ./testing
COPY examples ./examples
COPY console ./console
COPY scripts/build-console.ts ./scripts/build-console.ts
COPY scripts/build-workflow-bundle.ts ./scripts/build-workflow-bundle.ts
RUN npm run build:image

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
# `governor/*` resolves to dist/ by the package's own name; the support domain is compiled into build/.
COPY --from=build /app/dist ./dist
COPY --from=build /app/build ./build
RUN mkdir -p /data && chown node:node /data
USER node
ENV GOVERNOR_DATA_DIR=/data/pgdata GOVERNOR_METRICS_HOST=0.0.0.0 GOVERNOR_METRICS_PORT=9464
EXPOSE 9464 8090
# Healthy while the worker polls its task queue (the metrics server's /healthz).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.GOVERNOR_METRICS_PORT || 9464) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM drains the worker (in-flight tasks finish, nothing new is polled) before the process exits.
STOPSIGNAL SIGTERM
CMD ["node", "build/examples/support/worker.js"]
