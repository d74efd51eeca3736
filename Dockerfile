# syntax=docker/dockerfile:1
# newsbrief images (multi-stage, non-root, CPU only):
#   docker build -t newsbrief .                                  the default image: extractive
#       briefs in en/ko/ms/id, no model weights, no torch (small); gRPC on 50051, HTTP/JSON and
#       the editor's page on 8080;
#   docker build --target models -t newsbrief:models .           + CTranslate2 (no torch): the
#       translator (m2m100-418m) and abstractive summariser (distilbart-cnn) run from the models
#       volume NEWSBRIEF_MODELS_DIR=/models, filled once by the models-init image;
#   docker build --target models-init -t newsbrief:models-init . fills that volume:
#       `newsbrief-server models download` then `newsbrief-server models convert` (it carries a
#       CPU-only torch for the conversion; the serving image never does).
# Dependency layers come before the source: a code edit rebuilds only the last small layer.
# The install steps of the `build` and `build-models` chains are mirrored by
# scripts/dockerfile_mirror.py, which the tests run (tests/system/test_dockerfile.py), so
# this file stays true without a Docker engine.
#
# The base is pinned by digest (python:3.11-slim, linux/amd64+arm64 index). To move to a newer
# patch release: `docker buildx imagetools inspect python:3.11-slim` and replace the digest.
ARG PYTHON_IMAGE=python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7
# The CPU-only torch wheels (models-init only; the default index would bring a CUDA build).
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu

# ---- dependencies (cached until pyproject.toml or constraints.txt change) ----------------------
# uv installs them (and compiles them to bytecode, so a container's start does not); it lives in a
# build-only environment of its own, never in an image (whose environment has no pip either). Its
# downloads are kept between builds in a BuildKit cache mount.
FROM ${PYTHON_IMAGE} AS deps
ENV VENV=/opt/venv UV_PYTHON=/opt/venv/bin/python UV_TOOL=/opt/uv UV_CACHE_DIR=/cache/uv \
    UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python3 -m venv --without-pip "$VENV" && python3 -m venv "$UV_TOOL" && \
    "$UV_TOOL/bin/pip" install --quiet uv==0.13.9
COPY constraints.txt scripts/pyproject_deps.py ./
COPY client/pyproject.toml ./client/
COPY service/pyproject.toml ./service/
RUN --mount=type=cache,target=/cache/uv \
    python3 pyproject_deps.py client/pyproject.toml > requirements.txt && \
    python3 pyproject_deps.py service/pyproject.toml tracing >> requirements.txt && \
    "$UV_TOOL/bin/uv" pip install --quiet -c constraints.txt -r requirements.txt

FROM deps AS deps-models
RUN --mount=type=cache,target=/cache/uv \
    python3 pyproject_deps.py service/pyproject.toml ct2 > requirements-models.txt && \
    "$UV_TOOL/bin/uv" pip install --quiet -c constraints.txt -r requirements-models.txt

FROM deps-models AS deps-convert
ARG TORCH_INDEX
RUN --mount=type=cache,target=/cache/uv \
    grep '^torch==' constraints.txt > requirements-torch.txt && \
    "$UV_TOOL/bin/uv" pip install --quiet --index-url "$TORCH_INDEX" -r requirements-torch.txt && \
    python3 pyproject_deps.py service/pyproject.toml hf > requirements-hf.txt && \
    "$UV_TOOL/bin/uv" pip install --quiet -c constraints.txt -r requirements-hf.txt

# ---- the project itself (no dependency is resolved here: they are all above) -----------------
FROM deps AS build
COPY client/ ./client/
COPY service/ ./service/
RUN --mount=type=cache,target=/cache/uv "$UV_TOOL/bin/uv" pip install --no-deps ./client ./service && "$UV_TOOL/bin/uv" pip check

FROM deps-models AS build-models
COPY client/ ./client/
COPY service/ ./service/
RUN --mount=type=cache,target=/cache/uv "$UV_TOOL/bin/uv" pip install --no-deps ./client ./service && "$UV_TOOL/bin/uv" pip check

FROM deps-convert AS build-convert
COPY client/ ./client/
COPY service/ ./service/
RUN --mount=type=cache,target=/cache/uv "$UV_TOOL/bin/uv" pip install --no-deps ./client ./service && "$UV_TOOL/bin/uv" pip check

# ---- what every image runs as ------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS base
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin newsbrief
ENV PATH=/opt/venv/bin:$PATH NEWSBRIEF_HOST=0.0.0.0 NEWSBRIEF_PORT=50051 NEWSBRIEF_HTTP_PORT=8080 \
    NEWSBRIEF_LOGGING__JSON_LINES=true PYTHONDONTWRITEBYTECODE=1
USER 10001
EXPOSE 50051 8080
# `newsbrief-server health` reads the server's own settings: it follows NEWSBRIEF_PORT and the
# TLS (and mTLS) files, so another port or TLS keeps the container healthy.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["newsbrief-server", "health", "--timeout", "3"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["newsbrief-server"]

# The models volume: Hugging Face cache in /models/hf/hub, converted models in /models/ct2.
FROM base AS models-init
COPY --from=build-convert /opt/venv /opt/venv
ENV NEWSBRIEF_MODELS_DIR=/models HF_HOME=/models/hf \
    NEWSBRIEF_MODELS__TRANSLATOR__ENGINE=ctranslate2 \
    NEWSBRIEF_MODELS__SUMMARIZER__PRESET=distilbart-cnn \
    NEWSBRIEF_MODELS__SUMMARIZER__ENGINE=ctranslate2
ENTRYPOINT ["/bin/sh", "-ec", "newsbrief-server models download && newsbrief-server models convert"]

FROM base AS models
COPY --from=build-models /opt/venv /opt/venv
ENV NEWSBRIEF_MODELS_DIR=/models HF_HOME=/models/hf HF_HUB_OFFLINE=1 \
    NEWSBRIEF_MODELS__TRANSLATOR__ENGINE=ctranslate2 \
    NEWSBRIEF_MODELS__SUMMARIZER__PRESET=distilbart-cnn \
    NEWSBRIEF_MODELS__SUMMARIZER__ENGINE=ctranslate2
VOLUME ["/models"]

# The default target (last): extractive briefs, no model files.
FROM base AS runtime
COPY --from=build /opt/venv /opt/venv
