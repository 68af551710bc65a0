# megalift in a container, running the registry proxy by default.
# The build stage compiles the TypeScript; the runtime stage holds only
# production dependencies and the compiled code, runs as a non-root user,
# and keeps its cache on a volume. The upstream comes from MEGALIFT_UPSTREAM
# (or a config file mounted at /etc/megalift/proxy.yaml and passed with --config).
#   docker build -t megalift .
#   docker run -p 5000:5000 -v megalift-cache:/var/cache/megalift \
#     -e MEGALIFT_UPSTREAM=https://registry-1.docker.io megalift
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY proxy ./proxy
RUN npx tsc -p tsconfig.build.json

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    MEGALIFT_CACHE_DIR=/var/cache/megalift \
    MEGALIFT_UPSTREAM=https://registry-1.docker.io
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY schemas ./schemas
RUN useradd --system --uid 10001 --home-dir /var/cache/megalift megalift \
 && mkdir -p /var/cache/megalift && chown megalift /var/cache/megalift
USER megalift
VOLUME ["/var/cache/megalift"]
EXPOSE 5000
HEALTHCHECK --interval=30s --timeout=3s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:5000/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# docker stop sends SIGTERM; the proxy finishes responses in progress and exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["proxy", "--listen", "0.0.0.0:5000", "--cache", "/var/cache/megalift", "--mode", "passthrough"]
