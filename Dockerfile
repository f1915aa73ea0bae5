# Cordon server image. The same steps as the README's main command (scripts/serve.sh):
# scripts/build_web.sh builds the browser client (npm ci, npm run build) in a Node stage,
# scripts/bootstrap.sh creates .venv and installs the server and client, then
# `cordon-server serve` applies the Alembic migrations and starts uvicorn, serving the
# client's dist/ at /.

FROM node:20-slim AS web
WORKDIR /opt/cordon
COPY scripts/build_web.sh ./scripts/build_web.sh
COPY clients/web ./clients/web
# The web client bundles the Python package's template files and WCO regions (one source for
# both clients; scripts/build_web.sh names the same paths).
COPY clients/python/cordon_client/templates ./clients/python/cordon_client/templates
COPY clients/python/cordon_client/analytics/regions.json ./clients/python/cordon_client/analytics/regions.json
RUN scripts/build_web.sh

FROM python:3.11-slim AS build
WORKDIR /opt/cordon
COPY pyproject.toml alembic.ini ./
COPY scripts ./scripts
COPY app ./app
COPY migrations ./migrations
COPY clients/python ./clients/python
COPY --from=web /opt/cordon/clients/web/dist ./clients/web/dist
RUN scripts/bootstrap.sh

FROM python:3.11-slim AS runtime
RUN useradd --system --create-home --home-dir /var/lib/cordon --uid 10001 cordon
COPY --from=build /opt/cordon /opt/cordon
WORKDIR /var/lib/cordon
ENV PATH=/opt/cordon/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CORDON_ENVIRONMENT=production \
    CORDON_SEED_DEMO=false \
    CORDON_DATABASE_URL=sqlite+aiosqlite:////var/lib/cordon/cordon.db
USER cordon
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz')"]
# CORDON_SECRET_KEY must be given at run time: production refuses the development default.
CMD ["cordon-server", "serve", "--host", "0.0.0.0", "--port", "8000"]
