# python-mcp: the MCP server and its sandbox launcher, on Debian 12.
#
#   podman build -t python-mcp .        (or docker build)
#   podman run -d --name python-mcp -p 8765:8765 \
#       --security-opt systempaths=unconfined \
#       --security-opt seccomp=policies/container-seccomp.json \
#       --device /dev/net/tun \
#       -v python-mcp-state:/home/python-mcp/.python_mcp -v python-mcp-ws:/workspace \
#       -v "$PWD/tokens:/run/secrets/python-mcp-tokens:ro" python-mcp
#   (stdio instead: podman run -i --rm ... python-mcp python-mcp --workspace-root /workspace)
#
# The default command serves Streamable HTTP on 0.0.0.0:8765 with the
# bearer tokens of /run/secrets/python-mcp-tokens (a secret or a
# read-only bind; `NAME TOKEN` a line); every script runs inside
# python-mcp-sandbox, which builds its own namespaces and seccomp filter.
# It needs a fresh /proc, which container engines refuse while they mask
# parts of the container's /proc (systempaths=unconfined), and the
# engines' default seccomp profiles refuse the namespace and mount calls
# it builds a sandbox with to a process without CAP_SYS_ADMIN: the
# project's policies/container-seccomp.json is Docker's default profile
# plus exactly those calls (scripts/container-seccomp), so the engine's
# filter stays on for the server.  Without them every run fails and says
# why; nothing degrades silently.
# /dev/net/tun is for dependency installs, whose user-mode network (pasta)
# needs it.
# README.md, "In a container"; scripts/container-smoke checks all this.
#
# No heredocs (`RUN <<EOF`): the buildah of Debian 12 does not support them.

# ---- build stage: compilers and -dev packages, never shipped ----
FROM debian:bookworm AS build

# python3 only because configuring the project runs the test suite's
# scripts (tests/sandbox lists its cases at configure time).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config \
        libuv1-dev libjansson-dev libseccomp-dev libcap-dev libnftables-dev nettle-dev libh2o-dev libssl-dev libcjose-dev python3 python3-pip \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .

# Only the two programs are built: the image runs no tests, and the test
# suite (with its own dependencies) is scripts/test's business.  A program
# that does not compile, or a shipped policy the launcher refuses, fails
# the build.  `--strip` drops the debug info of RelWithDebInfo from the
# installed files.
# pip goes to the runtime stage without its byte code (about 7 MB): it
# compiles what it imports when it runs, which only installs do.
RUN find /usr/lib/python3/dist-packages/pip -name __pycache__ -prune -exec rm -rf {} +

RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build build -j"$(nproc)" --target python-mcp python-mcp-sandbox \
 && cmake --install build --prefix /opt/python-mcp --strip \
 && /opt/python-mcp/bin/python-mcp-sandbox \
        --check-policy /opt/python-mcp/share/python-mcp/policies/default.json

# ---- runtime stage: the programs, their shared libraries and python3 ----
FROM debian:bookworm-slim

ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="python-mcp" \
      org.opencontainers.image.description="MCP server that runs untrusted Python in a sandbox (namespaces, seccomp, rlimits, cgroups); run with --security-opt systempaths=unconfined --security-opt seccomp=policies/container-seccomp.json" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.base.name="debian:bookworm-slim"

# python3 is Debian's /usr/bin/python3, which the policies bind with /usr.
# pip installs dependencies into cached environments (it runs from the
# interpreter; environments need no pip of their own).  Only Debian's pip
# module itself comes along, from the build stage: it vendors what it
# needs to install wheels, while the python3-pip package would pull in
# setuptools, wheel, distutils and lib2to3 (about 20 MB), which only
# building source distributions needs.  Index settings are pip's: pass
# -e PIP_INDEX_URL=... or, offline, -e PIP_NO_INDEX=1
# -e PIP_FIND_LINKS=/wheels -v DIR:/wheels:ro.  The CA store (for pip's
# HTTPS and ssl.create_default_context() in scripts) comes as files from
# the build stage: the ca-certificates package would bring the openssl
# program along.  passt provides pasta, the user-mode network of
# dependency installs (install.json: "network": "user"); it needs
# `--device /dev/net/tun`.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libuv1 libjansson4 libseccomp2 libcap2 libnftables1 libnettle8 libh2o0.13 libcjose0 python3 passt \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

COPY --from=build /usr/lib/python3/dist-packages/pip /usr/lib/python3/dist-packages/pip
COPY --from=build /etc/ssl/certs /etc/ssl/certs
COPY --from=build /usr/share/ca-certificates /usr/share/ca-certificates
COPY --from=build /opt/python-mcp /opt/python-mcp
ENV PATH=/opt/python-mcp/bin:$PATH

# A non-root user, on purpose.  As root the launcher would map the script
# to an unprivileged id itself, but a root launcher needs what container
# engines withhold by default (CAP_SYS_ADMIN to write the id maps of a
# namespace it creates as that id, CAP_SYS_PTRACE and an id-mapping
# filesystem for the workspace), while a non-root launcher needs none of
# that and maps the script to its own id.  Scripts then run as uid 1000,
# inside and outside the sandbox.  The default policy lists /workspace
# among its workspace roots: mount a volume there that uid 1000 can write
# and let the server create job workspaces below it.  The server keeps its
# state in $HOME/.python_mcp (/home/python-mcp/.python_mcp): mount a
# volume there to keep jobs across restarts.
RUN useradd --uid 1000 --user-group --create-home --shell /usr/sbin/nologin python-mcp \
 && install -d -o 1000 -g 1000 /workspace
USER 1000:1000
WORKDIR /workspace

# State (jobs, scripts, environments) and workspaces are volumes.
VOLUME ["/home/python-mcp/.python_mcp", "/workspace"]
EXPOSE 8765
# Ready: a sandbox launcher up and the state writable (python3 is there
# anyway; no curl in the image).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8765/readyz', timeout=4)"]
# SIGTERM: the server stops accepting, ends every sandbox (their jobs are
# recorded failed with the reason) and exits 0.
STOPSIGNAL SIGTERM
CMD ["python-mcp", "--workspace-root", "/workspace", "--transport", "http", \
     "--listen", "0.0.0.0:8765", "--auth-tokens", "/run/secrets/python-mcp-tokens"]
