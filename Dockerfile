# syntax=docker/dockerfile:1
# The meshpilot image: worker (`worker [--site NAME]`), chat app (`chat`) and codec server (`codec-server`).
# Tool versions are the ones meshpilot's adapters are written against (shared/reference/cli-contracts.md).
ARG NODE_VERSION=20.20.2

FROM node:${NODE_VERSION}-bookworm-slim AS tools
ARG TARGETARCH
ARG TALOSCTL_VERSION=v1.9.6
ARG HELM_VERSION=v3.16.4
ARG CILIUM_CLI_VERSION=v0.16.15
ARG KUBECTL_VERSION=v1.32.3
# Optional digests for the linux/$TARGETARCH artifacts; empty = the release's published checksum is used.
ARG TALOSCTL_SHA256=
ARG HELM_SHA256=
ARG CILIUM_CLI_SHA256=
ARG KUBECTL_SHA256=
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
COPY deploy/install-tools.sh /usr/local/sbin/install-tools.sh
RUN OUT=/out sh /usr/local/sbin/install-tools.sh

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    MESHPILOT_DATA_DIR=/var/lib/meshpilot
WORKDIR /app
COPY --from=tools /out/ /usr/local/bin/
COPY package.json package-lock.json ./
# tsx is a runtime dependency: the TypeScript sources run as they are, no build step.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY . .
RUN mkdir -p /var/lib/meshpilot && chown node:node /var/lib/meshpilot
# The image's built-in unprivileged user (uid 1000): workers never need root to drive talosctl or a BMC.
USER node
VOLUME ["/var/lib/meshpilot"]
ENTRYPOINT ["node", "/app/bin/meshpilot.mjs"]
CMD ["--help"]
