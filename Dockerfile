# The cashwatch application image: one image, every stage (the command picks the stage).
#   docker build -t cashwatch .
#   docker run --rm cashwatch --help
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

RUN useradd --create-home --uid 10001 cashwatch \
 && mkdir -p /data /config \
 && chown cashwatch: /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY cashwatch ./cashwatch
COPY producers ./producers
COPY processors ./processors
COPY sinks ./sinks
COPY deploy ./deploy
# Editable, so the code finds deploy/elasticsearch and deploy/kibana beside it.
RUN pip install -e '.[kafka,elasticsearch]'

USER cashwatch
WORKDIR /data
# The templates (deploy/elasticsearch) and saved objects (deploy/kibana) are read from /app/deploy.
ENV CASHWATCH_CONFIG=/app/deploy/cashwatch.yaml
ENTRYPOINT ["cashwatch"]
CMD ["--help"]
