# syntax=docker/dockerfile:1
# The production image: `chainfluence api`, `chainfluence worker` and `chainfluence db upgrade`.
# Built from the lock (requirements/service.txt, every file checked against its hash) and the
# project itself with --no-deps: nothing is resolved at build time. No node, no TVM, no test or
# lint tools, and not the local emulators: they are their own distribution
# (packages/chainfluence-sandbox), which the product never imports.
#
#   docker build -t chainfluence .                       # the production target (the last stage)
#   docker run --env-file .env chainfluence db upgrade
#   docker run --env-file .env -p 8000:8000 chainfluence api
#   docker run --env-file .env chainfluence worker

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: a virtualenv with the locked dependencies and the project ---------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/chainfluence
WORKDIR /src
COPY requirements/service.txt requirements/service.txt
RUN /opt/chainfluence/bin/pip install --require-hashes -r requirements/service.txt
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/chainfluence/bin/pip install --no-deps --no-build-isolation . \
    && /opt/chainfluence/bin/python -m compileall -q /opt/chainfluence/lib

# ---- production: the virtualenv on a clean base, run as an unprivileged user ---------------------
FROM ${PYTHON_IMAGE} AS production
RUN groupadd --system --gid 10001 chainfluence \
    && useradd --system --uid 10001 --gid chainfluence --home-dir /app --create-home chainfluence \
    && mkdir -p /app/uploads && chown chainfluence:chainfluence /app/uploads
COPY --from=build /opt/chainfluence /opt/chainfluence
ENV PATH=/opt/chainfluence/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CHAINFLUENCE_MODE=production \
    CHAINFLUENCE_HTTP__HOST=0.0.0.0 \
    CHAINFLUENCE_HTTP__PORT=8000 \
    CHAINFLUENCE_WORKER__HOST=0.0.0.0 \
    CHAINFLUENCE_WORKER__PORT=8001 \
    CHAINFLUENCE_UPLOADS__DIR=/app/uploads
WORKDIR /app
USER chainfluence:chainfluence
# 8000: the API (`api`); 8001: the worker's /healthz, /readyz and /metrics (`worker`).
EXPOSE 8000 8001
ENTRYPOINT ["chainfluence"]
CMD ["api"]
