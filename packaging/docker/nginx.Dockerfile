# nginx in front of several gateways, for docker-compose.yml's "scale-out" profile: Debian's
# nginx-light with the configuration shipped in packaging/nginx/llmstreamer.conf, its example
# upstream replaced by the compose service "gateways" (Docker's DNS gives nginx every replica's
# address when it starts; after `--scale gateways=N` changes N, restart lb) and its port by 8080.
FROM debian:12-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx-light \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default \
    && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
COPY packaging/nginx/llmstreamer.conf /etc/nginx/llmstreamer.conf.example
# One "server gateways:8000" for the three example servers; listen on 8080 (IPv4: Docker's
# networks have no IPv6 unless configured).
RUN awk '/^[[:space:]]*server 10\.0\.0\.[0-9]+:8000/ { if (!done) print "        server gateways:8000 max_fails=1 fail_timeout=10s;"; done = 1; next } \
         /^[[:space:]]*listen \[::\]:80;/ { next } \
         { sub(/listen 80;/, "listen 8080;"); sub(/server_name logs\.example\.com;/, "server_name _;"); print }' \
        /etc/nginx/llmstreamer.conf.example >/etc/nginx/conf.d/llmstreamer.conf \
    && grep -q 'server gateways:8000' /etc/nginx/conf.d/llmstreamer.conf \
    && grep -q 'listen 8080;' /etc/nginx/conf.d/llmstreamer.conf
EXPOSE 8080
STOPSIGNAL SIGQUIT
LABEL org.opencontainers.image.title="llmstreamer-nginx" \
      org.opencontainers.image.description="nginx in front of several LLM Streamer gateways"
CMD ["nginx", "-g", "daemon off;"]
