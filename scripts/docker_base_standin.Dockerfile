# A stand-in for airbyte/python-connector-base:4.0.2, for machines that cannot reach Docker Hub.
# Built by scripts/docker_env.sh on a Debian bookworm rootfs (debootstrap --variant=minbase, then
# `docker import`), following the base image's published definition, airbytehq/airbyte
# docker-images/Dockerfile.python-connector-base (itself migrated from airbyte-ci's base_images):
# UTC time zone, user/group `airbyte` (uid/gid 1000, system, no home), /airbyte owned by it,
# /custom_cache, PIP_CACHE_DIR, pip 24.0 + setuptools 70.0.0, poetry 1.8.4 with its env, socat,
# tesseract-ocr, poppler-utils, /usr/share/nltk_data.
# Where it differs from the real image (README, "Docker without Docker Hub"): the real image starts
# from python:3.11.11-slim-bookworm (CPython 3.11.11 built into /usr/local); this one uses Debian's
# python3 package (3.11.2, /usr/bin/python3) with `python` and `pip` on PATH and Debian's
# "externally managed" marker removed, so `pip install` as root goes to /usr/local like there.
# Debian packages come from the host's mirror at build time, so their patch levels differ.
ARG ROOTFS
FROM ${ROOTFS}

ENV LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# --- the stand-in for python:3.11-slim-bookworm ---
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-pip python3-venv ca-certificates tzdata netbase \
    && ln -s /usr/bin/python3 /usr/local/bin/python \
    && rm -f /usr/lib/python3.*/EXTERNALLY-MANAGED \
    && apt-get clean && rm -rf /var/lib/apt/lists/*

# --- Dockerfile.python-connector-base ---
RUN ln -snf /usr/share/zoneinfo/Etc/UTC /etc/localtime

RUN adduser --uid 1000 --system --group --no-create-home airbyte && \
    mkdir --mode 755 /custom_cache && \
    mkdir --mode 755 /airbyte && \
    chown airbyte:airbyte /airbyte

ENV PIP_CACHE_DIR=/custom_cache/pip
# proxy_ca: the build host's CA bundle as a BuildKit secret (a TLS-intercepting proxy's CA); it is
# mounted only while this step runs and is in no layer.
RUN --mount=type=secret,id=proxy_ca \
    if [ -s /run/secrets/proxy_ca ]; then export PIP_CERT=/run/secrets/proxy_ca; fi; \
    pip install --upgrade pip==24.0 setuptools==70.0.0

ENV POETRY_VIRTUALENVS_CREATE=false
ENV POETRY_VIRTUALENVS_IN_PROJECT=false
ENV POETRY_NO_INTERACTION=1

RUN --mount=type=secret,id=proxy_ca \
    if [ -s /run/secrets/proxy_ca ]; then export PIP_CERT=/run/secrets/proxy_ca; fi; \
    pip install poetry==1.8.4

RUN apt-get update && \
    DEBIAN_FRONTEND=noninteractive apt-get upgrade -y && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y socat tesseract-ocr poppler-utils && \
    apt-get clean && rm -rf /var/lib/apt/lists/*

RUN mkdir -p /usr/share/nltk_data

LABEL io.airbyte.base_image_standin="airbyte/python-connector-base:4.0.2"
CMD ["python"]
