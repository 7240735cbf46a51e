# One image for every `sisock` command. Multi-stage: build with dev dependencies, run without.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/router-config ./router-config
COPY --from=build /app/data-nodes ./data-nodes
USER node
ENTRYPOINT ["node", "/app/dist/bin/sisock.js"]
