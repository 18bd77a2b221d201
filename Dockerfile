# The Ruộng Số server image: one image, one `ruongso <part>` command per compose service.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# uid/gid 1883 = `mosquitto` in the eclipse-mosquitto image: the API rewrites the broker's password
# and ACL files on a shared volume and signals the broker, which needs the same user on both sides.
RUN groupadd --gid 1883 ruongso \
    && useradd --uid 1883 --gid 1883 --home-dir /var/lib/ruongso --create-home --shell /usr/sbin/nologin ruongso \
    # Named volumes copy the ownership of these folders when first created: the services can write there.
    && mkdir -p /var/lib/ruongso/ingest /var/lib/ruongso/analytics /var/lib/ruongso/notify /var/lib/ruongso/registry \
       /var/lib/ruongso/sim \
    && chown -R ruongso:ruongso /var/lib/ruongso

COPY pyproject.toml README.md ./
COPY contract ./contract
COPY ruongso ./ruongso
COPY edge ./edge
COPY ingest ./ingest
COPY analytics ./analytics
COPY api ./api
COPY dashboards ./dashboards
COPY simulators ./simulators
COPY registry ./registry
COPY notify ./notify
COPY deploy/grafana/dashboards ./deploy/grafana/dashboards

# Editable, so `ruongso dashboards push` finds the board JSON under /app/deploy without a --dir.
RUN pip install -e '.[server]' && ruongso version

USER ruongso
WORKDIR /var/lib/ruongso
CMD ["ruongso", "--help"]
