# The reference worker (the support workflows on Governor). Build context is the repository root; see
# docker-compose.yml. Runs from source with tsx, which resolves `governor/*` through tsconfig.json's paths.
FROM node:22-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY contracts ./contracts
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY client ./client
COPY testing ./testing
COPY examples ./examples
COPY types ./types
COPY tsconfig.json ./
RUN mkdir -p /data && chown node:node /data
USER node
CMD ["node", "--import", "tsx", "examples/support/worker.ts"]
