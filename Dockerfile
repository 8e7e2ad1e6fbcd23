# syntax=docker/dockerfile:1
# One image for every kubeOP component; the command picks it:
#   docker run <image> operator | admission | manager | migrate | version
# Stages: tools (helm and kubectl, checksums verified), build (TypeScript to dist/), deps (production
# node_modules only), runtime (Node.js 24 on Debian slim, git, non-root, read-only friendly).
# Checked by test/integration/repo/dockerfile.test.ts (dockerfile-utils lint and the rules below).

ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM debian:bookworm-slim AS tools
ARG HELM_VERSION=v3.22.0
ARG KUBECTL_VERSION=v1.37.2
ARG TARGETARCH=amd64
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates=20230311* curl=7.88.* \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /tools
# Each download is checked against the checksum its project publishes beside it.
RUN curl -fsSLO "https://get.helm.sh/helm-${HELM_VERSION}-linux-${TARGETARCH}.tar.gz" \
 && curl -fsSL "https://get.helm.sh/helm-${HELM_VERSION}-linux-${TARGETARCH}.tar.gz.sha256sum" | sha256sum -c - \
 && tar -xzf "helm-${HELM_VERSION}-linux-${TARGETARCH}.tar.gz" --strip-components=1 "linux-${TARGETARCH}/helm" \
 && curl -fsSLO "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${TARGETARCH}/kubectl" \
 && echo "$(curl -fsSL "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${TARGETARCH}/kubectl.sha256")  kubectl" | sha256sum -c - \
 && chmod 0755 helm kubectl \
 && ./helm version --short && ./kubectl version --client

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
ARG KUBEOP_BUILD_COMMIT=unknown
# tsc and the build-info script run on the image's Node.js (npm ci --ignore-scripts leaves the
# pinned `node` devDependency uninstalled, so `npm run build` is not used here).
RUN ./node_modules/.bin/tsc -p tsconfig.build.json \
 && KUBEOP_BUILD_COMMIT="${KUBEOP_BUILD_COMMIT}" node scripts/write-build-info.ts

FROM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# git fetches Git sources; ca-certificates for HTTPS to Git and Helm repositories; tini reaps the
# git and helm child processes and forwards SIGTERM so kubeOP shuts down gracefully.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates=20230311* git=1:2.39.* tini=0.19.* \
 && rm -rf /var/lib/apt/lists/*
COPY --from=tools /tools/helm /tools/kubectl /usr/local/bin/
# The embedded database's directory (KUBEOP_DATA_DIR), writable by the runtime user.
RUN mkdir -p /var/lib/kubeop && chown 65532:65532 /var/lib/kubeop
WORKDIR /app
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
# A numeric non-root user, so Kubernetes can verify runAsNonRoot without a passwd lookup.
USER 65532:65532
ENV NODE_ENV=production \
    HOME=/tmp \
    KUBEOP_HTTP_ADDR=0.0.0.0:8080 \
    KUBEOP_DATA_DIR=/var/lib/kubeop \
    KUBEOP_HELM_BINARY=/usr/local/bin/helm
EXPOSE 8080 9443
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/kubeop.js"]
CMD ["--help"]
