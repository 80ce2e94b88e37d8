# syntax=docker/dockerfile:1
# The xcc-sessions API as a container: the wheel and its locked dependencies in a virtual
# environment, run by a non-root user. Build: docker build -t xcc-sessions .
# Run with compose (see README.md), or alone: docker run -p 8000:8000 -e DATABASE_URL=... xcc-sessions

ARG PYTHON_VERSION=3.12

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv
WORKDIR /src

# Dependencies first, pinned by uv.lock (--locked fails on a stale lock), so that a code change
# reuses this layer.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-install-project

# The wheel, built from exactly what it packs: the package, its SQL files and the README.
COPY README.md ./
COPY xcc_sessions ./xcc_sessions
COPY queries ./queries
RUN --mount=type=cache,target=/root/.cache/uv \
    uv build --wheel --out-dir /tmp/dist \
    && uv pip install --python /opt/venv/bin/python --no-deps /tmp/dist/*.whl


FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app app \
    && mkdir /home/app/data \
    && chown app:app /home/app/data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1
USER app
WORKDIR /home/app
# data/ holds the downloaded events, the sessionize output and the default DuckDB file.
VOLUME ["/home/app/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=5m --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
# Inside a container the server must listen on every interface, not only on loopback.
CMD ["xcc-sessions", "serve", "--host", "0.0.0.0", "--port", "8000"]
