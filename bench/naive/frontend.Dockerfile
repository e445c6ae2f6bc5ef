# The frontend as a first Dockerfile usually looks: one stage, every dependency (dev ones
# too) and the whole build output shipped, `npm start` as the server. bench/run.py builds it
# on the same base as the real image to size the difference; it is never deployed.
ARG BASE_IMAGE=node:22-slim
FROM ${BASE_IMAGE}
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    NEXT_TELEMETRY_DISABLED=1 \
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund && npm run build
EXPOSE 3000
CMD ["npm", "start"]
