# meshid-operator image (docs/deployment.md):
#   docker build -t meshid-operator:latest .
# Two stages: the first compiles the TypeScript, the second runs it with production dependencies
# only, as a non-root user, so nothing of the toolchain ships.

# A supported Node.js LTS (the code needs >= 20.19 for require() of the ES-module-only pkijs).
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Dependencies first: this layer is rebuilt only when package-lock.json changes. No package's
# install script runs: the build needs only tsc, and the operator no native module.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY api ./api
COPY operator ./operator
RUN npm run build \
  && npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
# Root owns every file and the process cannot write them (the Deployment also mounts the root
# filesystem read-only).
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/api ./dist/api
COPY --from=build /src/dist/operator ./dist/operator
# The same numeric user the Deployment requires (runAsNonRoot can only verify a numeric user).
USER 65532:65532
# webhook, metrics, health
EXPOSE 9443 8080 8081
# V8 sized for memory rather than speed: a 2 MB young generation (the default is 16 MB) and
# --optimize-for-size (a smaller heap growth factor). The operator turns a stream of watch events
# and API responses into short-lived objects, and the default heap only grew with them: at
# 10,000 pods the compiled operator peaked at about 330 MB RSS with some 80 MB live; with these
# flags 174 MB, and the cold start was no slower (docs/performance.md).
# make bench runs the operator with exactly these node flags.
ENTRYPOINT ["node", "--max-semi-space-size=2", "--optimize-for-size", "dist/operator/main.js"]
