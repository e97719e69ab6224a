# A stand-in for the official Redis image, for machines that reach no registry: CI
# (scripts/ci-containers.sh) tags it with the image name docker-compose.yml gives redis. Built
# from Debian's redis-server, it behaves as the official image does where the stack relies on
# it: `redis-server ARGS` runs with protected mode off (the container network is the boundary;
# Debian's default would refuse the gateway and the producers), redis-cli is there for the
# healthcheck, and /data is an anonymous volume (so `docker-compose down -v` has one to remove).
#   docker build -t redis:7.2 - < packaging/docker/redis-standin.Dockerfile
FROM debian:12-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server redis-tools \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir /data && chown redis:redis /data \
    && printf '%s\n' '#!/bin/sh' \
        '# Like the official image: redis-server (or bare options) with protected mode off.' \
        'if [ "$1" = redis-server ] || [ "${1#-}" != "$1" ]; then' \
        '    [ "$1" = redis-server ] && shift' \
        '    set -- redis-server "$@" --protected-mode no' \
        'fi' \
        'exec "$@"' >/usr/local/bin/docker-entrypoint.sh \
    && chmod 0755 /usr/local/bin/docker-entrypoint.sh
VOLUME /data
WORKDIR /data
USER redis
EXPOSE 6379
LABEL io.llmstreamer.ci.standin="redis"
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
