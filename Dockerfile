# Production image of the platform: trytond with the property modules, sao
# and the mini-program's H5 site.  Used by docker-compose.yml.
ARG PYTHON_VERSION=3.11
ARG SAO_VERSION=8.0.11

# Static files: sao (the back office) and the H5 build of the mini-program.
FROM node:20-bookworm-slim AS web
ARG SAO_VERSION
# The database name the H5 site calls: the same as TRYTOND_DATABASE_NAMES.
ARG PROPERTY_DB=property
WORKDIR /build
RUN npm pack --silent "tryton-sao@${SAO_VERSION}" \
    && mkdir -p www \
    && tar -xzf tryton-sao-*.tgz -C www --strip-components=1 \
    && cd www \
    && npm install --omit=dev --legacy-peer-deps --no-audit --no-fund
COPY miniprogram/package.json miniprogram/package-lock.json miniprogram/
RUN cd miniprogram && npm ci --no-audit --no-fund --loglevel=error
COPY miniprogram miniprogram
RUN cd miniprogram && PROPERTY_DB="${PROPERTY_DB}" npx uni build \
    && cp -r dist/build/h5 /build/www/m

FROM python:${PYTHON_VERSION}-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TRYTOND_CONFIG=/etc/trytond.conf
RUN useradd --system --home-dir /var/lib/trytond --create-home trytond
WORKDIR /var/lib/trytond
COPY requirements.txt /tmp/
# The pinned dependencies, then the addons as regular (not editable) packages.
RUN grep -v '^-e ' /tmp/requirements.txt > /tmp/pinned.txt \
    && pip install --no-cache-dir -r /tmp/pinned.txt
COPY addons /tmp/addons
RUN pip install --no-cache-dir --no-deps /tmp/addons/*/ && rm -rf /tmp/addons
COPY config/trytond-production.conf.example /etc/trytond.conf
COPY --from=web /build/www /var/www/tryton
USER trytond
VOLUME /var/lib/trytond
EXPOSE 8000
# 2 sync workers per container: trytond's work is CPU bound (one core each).
# The timeout leaves room for back-office imports (20,000 people: ~150 s).
CMD ["gunicorn", "--workers", "2", "--bind", "0.0.0.0:8000", \
    "--timeout", "300", "--access-logfile", "-", "trytond.application:app"]
