# smsgate node image: `docker build -t smsgate .`; deploy/compose.yaml runs two of them on
# PostgreSQL. Multi-stage: the build stage makes wheels, the runtime stage installs only them
# and runs as an unprivileged user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels '.[server]'

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/smsgate --create-home smsgate
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels 'smsgate[server]' \
    && rm -rf /wheels
USER smsgate
WORKDIR /var/lib/smsgate
# HTTP doors and the SMPP door; the config must listen on 0.0.0.0 for them to be reachable.
EXPOSE 8080 2775
# /health/live answers while the node runs (/health/ready is for load balancers); the HTTP port is the config's [http] port (8080 here).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, ssl, sys, urllib.request as u; sys.exit(u.urlopen(os.environ['SMSGATE_HEALTH_URL'], timeout=2, context=ssl._create_unverified_context()).status != 200)"]
# With [http] tls_cert set, give SMSGATE_HEALTH_URL=https://127.0.0.1:8080/health/live: the certificate names the public host, not loopback, so it is not verified there.
ENV SMSGATE_HEALTH_URL=http://127.0.0.1:8080/health/live
ENTRYPOINT ["smsgate"]
CMD ["serve", "--config", "/etc/smsgate/smsgate.toml"]
