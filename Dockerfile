# The Governor worker. Build context is the repository root; see docker-compose.yml.
FROM node:22-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts
COPY contracts ./contracts
COPY prompts ./prompts
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY client ./client
COPY tsconfig.json ./
RUN mkdir -p /data && chown node:node /data
USER node
CMD ["node", "--import", "tsx", "workers/main.ts"]
