# Keyward's image: the API (default command), and with other commands the worker and migrations.
# Dependencies come from requirements.lock (exact versions and hashes, made by scripts/lock), and
# Keyward is built with the locked setuptools: a rebuild installs the same bytes. For production,
# pin the base image by digest as well (python:3.11-slim-bookworm@sha256:...).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY requirements.lock ./
RUN python -m venv /opt/keyward \
 && /opt/keyward/bin/pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY app ./app
COPY workers ./workers
COPY keyward ./keyward
RUN /opt/keyward/bin/pip install --no-deps --no-build-isolation .

FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/keyward/bin:$PATH
# An unprivileged user owns only its working folder (where the embedded SQLite default would live).
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/keyward --create-home --shell /usr/sbin/nologin keyward
COPY --from=build /opt/keyward /opt/keyward
WORKDIR /var/lib/keyward
USER 10001:10001
EXPOSE 8000
# Ready = the process answers and its database does (/readyz); the worker and one-off commands
# override or disable this (docker-compose.yml).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status != 200)"]
CMD ["keyward", "serve", "--host", "0.0.0.0", "--port", "8000"]
