# Schoolgate: one image for the web server, the task workers and the scheduler.
#   docker build -t schoolgate .
#   docker run --rm -p 8000:8000 -e SECRET_KEY=... -v schoolgate-data:/data schoolgate
# (`schoolgate serve`: SQLite in /data, migrations applied at start.) See compose.yaml
# and docs/deploy.md. Written without a Docker engine at hand: not yet built (see
# docs/deploy.md, "How this was tried").
FROM python:3.13-slim

# pg_dump/pg_restore for `schoolgate backup` and `restore` on PostgreSQL; they must be
# of the server's major version or newer (Debian 13 ships 17). Pango, HarfBuzz's subsetter
# and a font for WeasyPrint (the PDF schedules).
RUN apt-get update \
    && apt-get install --yes --no-install-recommends \
        postgresql-client \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

COPY --from=ghcr.io/astral-sh/uv:0.13 /uv /usr/local/bin/uv

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    SCHOOLGATE_DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /app
# Dependencies first, in their own layer: it is rebuilt only when uv.lock changes.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY src ./src
RUN uv sync --frozen --no-dev

RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home schoolgate \
    && mkdir -p /data \
    && chown schoolgate:schoolgate /data
USER schoolgate

# WhiteNoise serves the static files from the package as well, so this only fills
# /data/static (copied into a new named volume) and proves the settings load; the PDF
# proves WeasyPrint finds Pango.
RUN schoolgate collectstatic --no-input --verbosity 0 \
    && python -c "import weasyprint; weasyprint.HTML(string='<p>PDF</p>').write_pdf()"

VOLUME /data
EXPOSE 8000
ENTRYPOINT ["schoolgate"]
CMD ["serve"]
