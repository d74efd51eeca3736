# newsbrief service image: multi-stage, non-root, gRPC health check; gRPC on 50051, HTTP/JSON on 8080.
# The install steps of the build stage are mirrored by scripts/dockerfile_mirror.py, which the
# tests run (tests/integration/test_dockerfile.py), so this file stays true without a Docker engine.
# CPU only: the image needs no torch for the built-in extractive brief.

FROM python:3.11-slim AS build
ENV VENV=/opt/venv PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY constraints.txt ./
COPY client/ ./client/
COPY service/ ./service/
RUN python3 -m venv "$VENV"
RUN "$VENV/bin/pip" install --quiet -c constraints.txt ./client ./service

FROM python:3.11-slim AS runtime
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin newsbrief
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH NEWSBRIEF_HOST=0.0.0.0 NEWSBRIEF_PORT=50051 NEWSBRIEF_HTTP_PORT=8080 NEWSBRIEF_LOGGING__JSON_LINES=true
USER 10001
EXPOSE 50051 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["newsbrief", "--target", "127.0.0.1:50051", "--timeout", "2", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["newsbrief-server"]
