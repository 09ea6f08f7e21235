# Relais as a container image: one webhook replica per container (README "Running at
# scale"; docs/docker-compose.yml runs several behind a proxy, sharing PostgreSQL).
# No container engine runs where Relais is developed: `make lint` checks this file with
# hadolint, and tests/system/test_wheel.py installs the same wheel outside the repository.

# Stage 1: the locked dependencies and the wheel, in a virtualenv copied to stage 2.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Exact versions and hashes (`make lock` writes it): the image gets what CI tested.
COPY requirements.lock ./
RUN python -m venv /opt/relais \
    && /opt/relais/bin/pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY flows ./flows
COPY locales ./locales
# flows/ and locales/ go inside the wheel; mount your own and set FLOWS_DIR/LOCALES_DIR
# to run edited ones without rebuilding.
RUN /opt/relais/bin/pip wheel --no-deps -w /dist . \
    && /opt/relais/bin/pip install --no-deps /dist/relais-*.whl

# Stage 2: the runtime, without build files, as an unprivileged user.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/relais/bin:$PATH \
    WEBHOOK_LISTEN=0.0.0.0 WEBHOOK_PORT=8080 LOG_FORMAT=json
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin relais \
    && install -d -o relais -g relais /var/lib/relais
COPY --from=build /opt/relais /opt/relais
# The working folder: a SQLite database (the default DATABASE_URL) would live here.
WORKDIR /var/lib/relais
USER 10001:10001

EXPOSE 8080
# SIGTERM drains: in-flight updates finish (up to 25 s), the others are refused so
# Telegram redelivers them to another replica. Give it time: stop_grace_period: 30s.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
    CMD ["python", "-c", "import os, sys, urllib.request as u; sys.exit(u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('WEBHOOK_PORT', '8080'), timeout=2).status != 200)"]
CMD ["relais", "run", "--webhook"]
