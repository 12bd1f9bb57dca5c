# docker-stats-to-backstop as a container image.
#
#   docker build -t docker-stats-to-backstop .
#   docker run -d --name docker-stats-to-backstop --restart unless-stopped \
#     -v /var/run/docker.sock:/var/run/docker.sock:ro \
#     --group-add "$(stat -c %g /var/run/docker.sock)" \
#     -e SRV_BACKSTOP=https://user:password@backstop.example/publish/docker \
#     docker-stats-to-backstop
#
# Build arguments:
#   NODE_IMAGE  the Node.js base image, for both stages (default: the official slim Node 20 image).
#               It needs node and npm, and a /bin/sh for the build stage.
#   NPM_DEPS    ci (default): install the dependencies with `npm ci` from the registry.
#               context: take them from docker-deps/node_modules in the build context instead (a
#               prepared `npm ci` of this package-lock.json, built with the same Node version), for
#               builds that cannot reach the registry. Nothing is fetched then.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ARG NPM_DEPS=ci
# `docker-dep[s]` matches nothing unless the context holds a prepared docker-deps/ folder, whose
# content (node_modules/) then lands in /app.
COPY package.json package-lock.json docker-dep[s] ./
RUN if [ "$NPM_DEPS" = context ]; then \
      test -d node_modules || { echo "NPM_DEPS=context: the build context has no docker-deps/node_modules" >&2; exit 1; }; \
    elif [ "$NPM_DEPS" = ci ]; then \
      rm -rf node_modules && npm ci --no-audit --no-fund; \
    else \
      echo "NPM_DEPS must be ci or context, not '$NPM_DEPS'" >&2; exit 1; \
    fi
COPY tsconfig.json ./
COPY src ./src
# Compile with the dev dependencies, then keep only the production ones (offline: nothing new).
RUN npm run build && npm prune --omit=dev --offline --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY README.md LICENSE ./
# Not root: give it the Docker socket's group with `docker run --group-add <gid>`. 1000 is the
# official Node images' `node` user; numeric so that any base image works.
USER 1000:1000
# node is PID 1 and handles SIGTERM/SIGINT itself: the final flush runs, then it exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/dist/main.js"]
