# One image for every `sisock` command (router, hub, node <kind>, grafana, grpc, the consumer CLI).
#   docker build -t sisock .        docker run --rm sisock --help
# Stages: build (TypeScript with dev dependencies) → prod-deps (npm ci --omit=dev) → runtime
# (node:20-bookworm-slim, non-root user `node`, only what the commands read at run time).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the package's own `prepare` (tsc) needs the sources, copied below (bench/ is not: it is
# built only by `make bench`, with tsconfig.bench.json).
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY index.ts ./index.ts
COPY contract ./contract
COPY wamp ./wamp
COPY transport ./transport
COPY router ./router
COPY client ./client
COPY common ./common
COPY hub ./hub
COPY data-nodes ./data-nodes
COPY consumers ./consumers
COPY historian ./historian
COPY bin ./bin
COPY docs/examples ./docs/examples
RUN npx tsc -p tsconfig.build.json

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
# Compilers only for a native module without a prebuilt binary for this platform; not in the image.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 make g++ >/dev/null && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && npm rebuild better-sqlite3 \
 && npm cache clean --force

FROM ${NODE_IMAGE}
# fincore (util-linux-extra): whether the page cache holds the files a big archive scan reads (else it
# reads through the cache whenever the memory could keep them). First: no source change rebuilds it.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends util-linux-extra >/dev/null && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    SISOCK_METRICS_PORT=9100 \
    SISOCK_METRICS_HOST=0.0.0.0
WORKDIR /app
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Files the commands read at run time, outside dist/:
COPY router-config ./router-config
COPY consumers/grpc/sisock.proto ./consumers/grpc/sisock.proto
COPY consumers/web/static ./consumers/web/static
COPY data-nodes/weather/example-data ./data-nodes/weather/example-data
COPY data-nodes/mqtt/examples ./data-nodes/mqtt/examples
# /app/tls: mount point of the CA (clients) or the server key and certificate (router).
# /data: node state (MQTT store, SQLite archive index), owned by the runtime user.
RUN mkdir -p /app/tls /data && chown node:node /data
USER node
EXPOSE 8080 8001 5000 50051 9100
# Every long-running command serves GET /healthz on $SISOCK_METRICS_PORT (200 when connected/serving).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SISOCK_METRICS_PORT||9100)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/bin/sisock.js"]
CMD ["--help"]
