# megalift in a container: a build stage compiles the TypeScript, the runtime
# stage holds only production dependencies and runs as a non-root user with
# its cache on a volume.
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
ENV NODE_ENV=production MEGALIFT_CACHE_DIR=/var/cache/megalift
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY schemas ./schemas
RUN useradd --system --uid 10001 --home-dir /var/cache/megalift megalift \
 && mkdir -p /var/cache/megalift && chown megalift /var/cache/megalift
USER megalift
VOLUME ["/var/cache/megalift"]
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["--help"]
