# The gongkai image. One image serves three roles in docker-compose.yml: the HTTP
# service (the default command), the one-shot schema migration and the projection worker.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The service refuses a log key file that anyone but its owner may read (as ssh does),
# so the key files mounted into the container must belong to this user: either chown
# them to 10001, or build with GONGKAI_UID set to the uid that owns them. Never root.
ARG GONGKAI_UID=10001
RUN test "$GONGKAI_UID" -ne 0 \
    && groupadd --gid "$GONGKAI_UID" gongkai \
    && useradd --uid "$GONGKAI_UID" --gid gongkai --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin gongkai

# Only what the package is built from: no virtualenv, no data, no secrets.
WORKDIR /build
COPY pyproject.toml README.md ./
COPY ledger ledger
COPY projections projections
COPY api api
RUN pip install . && rm -rf /build

# The working directory is where relative defaults (data/...) would land.
WORKDIR /var/lib/gongkai
# attachments/ exists in the image so that a new named volume mounted there takes its owner.
RUN mkdir /var/lib/gongkai/attachments && chown -R gongkai:gongkai /var/lib/gongkai
USER ${GONGKAI_UID}:${GONGKAI_UID}

EXPOSE 8000
# urllib raises on a refused connection and on any error status (503: no database).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# 0.0.0.0 inside the container only: docker-compose.yml publishes the port on the
# host's loopback interface.
CMD ["gongkai", "serve", "--host", "0.0.0.0", "--port", "8000"]
