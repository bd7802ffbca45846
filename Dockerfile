# One image for both entry points: `vigil operator` (manifests/operator/deployment.yaml) and
# `vigil correlator` (desired/stack/correlator.ts). Its tag is IMAGES.correlator in desired/stack/images.ts;
# `make image` builds it where a Docker engine exists.
# The build stages use Node's Debian image; the runtime image is distroless (Node and its libraries,
# no shell, no npm, no package manager), running as its nonroot user. Both are pinned to exact tags;
# pin the digests too where the registry is reachable at build time (FROM image:tag@sha256:...).
# Installs come only from the committed lock (npm ci) and run no package's install scripts: none of
# the runtime dependencies needs one (checked by installing with --ignore-scripts and running
# `vigil validate`, `render` and `correlator` from the result).
ARG NODE_IMAGE=node:20.19.5-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY api/ api/
COPY cli/ cli/
COPY conventions/ conventions/
COPY controller/ controller/
COPY correlator/ correlator/
COPY desired/ desired/
COPY kube/ kube/
COPY lib/ lib/
COPY operator/ operator/
RUN node_modules/.bin/tsc -p tsconfig.build.json

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error

FROM ${RUNTIME_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules/ node_modules/
COPY package.json ./
COPY bin/ bin/
COPY --from=build /src/dist/ dist/
# The correlator loads its .proto files at run time (correlator/otlp.ts looks beside dist/ and here).
COPY correlator/proto/ correlator/proto/
# A numeric non-root user, so that runAsNonRoot can verify it without /etc/passwd.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/vigil.js"]
CMD ["operator"]
