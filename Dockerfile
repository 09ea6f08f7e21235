# Relais as a container image: one webhook replica per container (README "Running at
# scale"; docs/docker-compose.yml runs several behind a proxy, sharing PostgreSQL).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY flows ./flows
COPY locales ./locales
# Editable, so the flows and locales are read from /app, where volunteers' edits land.
# `export` too: with DASHBOARD_TOKEN set, each replica serves the operator dashboard.
RUN pip install -e '.[postgres,export]' \
    && useradd --system --no-create-home --shell /usr/sbin/nologin relais
USER relais

ENV WEBHOOK_LISTEN=0.0.0.0 WEBHOOK_PORT=8080
EXPOSE 8080
# SIGTERM drains: in-flight updates finish (up to 25 s), the others are refused so
# Telegram redelivers them to another replica. Give it time: stop_grace_period: 30s.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
    CMD python -c "import sys, urllib.request as u; sys.exit(u.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status != 200)"
CMD ["relais", "run", "--webhook"]
