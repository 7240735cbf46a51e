# Crossbar.io serving router-config/production.json, for docker-compose.crossbar.yaml.
# The config is mounted at /node/.crossbar/config.json (the copy below is the default); TLS files
# at /node/tls, which is where production.json's "../tls/server.key" points from the cbdir.
# Runs as SISOCK_UID, the owner of tls/server.key on the host; Crossbar writes its node key and
# pid file into the cbdir, so that directory belongs to that user.
ARG CROSSBAR_IMAGE=crossbario/crossbar:latest
FROM ${CROSSBAR_IMAGE}
ARG SISOCK_UID=1000
USER root
RUN mkdir -p /node/.crossbar /node/tls && chown -R ${SISOCK_UID} /node/.crossbar
COPY router-config/production.json /node/.crossbar/config.json
USER ${SISOCK_UID}
WORKDIR /node
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
  CMD ["python3", "-c", "import socket; socket.create_connection(('127.0.0.1', 8080), 3)"]
ENTRYPOINT ["crossbar"]
CMD ["start", "--cbdir", "/node/.crossbar", "--config", "config.json", "--loglevel", "info"]
