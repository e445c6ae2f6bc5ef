# The backend as a first Dockerfile usually looks: one stage, the whole context, the build
# tools left in. bench/run.py builds it on the same base as the real image to size the
# difference; it is never deployed.
ARG BASE_IMAGE=python:3.13-slim-bookworm
FROM ${BASE_IMAGE}
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY . .
RUN python3 -m venv /opt/uv \
    && /opt/uv/bin/pip install uv==0.13.9 \
    && /opt/uv/bin/uv sync --frozen --no-dev
EXPOSE 8000
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
