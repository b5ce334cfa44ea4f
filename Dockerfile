# syntax=docker/dockerfile:1
# gokms container image: a static binary on distroless (CA certificates,
# /etc/passwd with "nonroot", no shell), run as a non-root user, root file
# system read-only friendly (gokms writes only the store directory /data).
#
#   docker build -t gokms:dev \
#     --build-arg VERSION="$(git describe --tags --always)" \
#     --build-arg COMMIT="$(git rev-parse HEAD)" \
#     --build-arg DIRTY="$(test -z "$(git status --porcelain)" && echo false || echo true)" .
#
# No secret is baked in: the store password and the API key are mounted at run
# time (compose secrets, Kubernetes Secrets as files) and read with
# --password-file and --envFile. See compose.yaml and deploy/helm/gokms.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# The context has no .git (.dockerignore): the version comes from these.
ARG VERSION=dev
ARG COMMIT=
ARG DIRTY=
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/gokms/gokms/tatum.buildVersion=${VERSION} -X github.com/gokms/gokms/tatum.buildCommit=${COMMIT} -X github.com/gokms/gokms/tatum.buildDirty=${DIRTY}" \
      -o /out/gokms ./cmd/gokms \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.title="gokms" \
      org.opencontainers.image.description="Key management system for Tatum-powered custodial apps (a tatum-kms successor)" \
      org.opencontainers.image.source="https://github.com/gokms/gokms"
COPY --from=build /out/gokms /usr/local/bin/gokms
# The store directory, owned by the image's non-root user (65532).
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV HOME=/data
WORKDIR /data
VOLUME ["/data"]
# /healthz and /metrics (--listen).
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/gokms"]
CMD ["daemon", "--path", "/data/wallet.dat", "--password-file", "/run/secrets/gokms-password", "--envFile", "/run/secrets/gokms.env", "--listen", ":9464", "--log-format", "json"]
