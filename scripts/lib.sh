# Shared by scripts/run and scripts/test: install what is missing, build.
# Sourced, not executed.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${PYMCP_BUILD_DIR:-$ROOT/build}
BUILD_ASAN=${PYMCP_BUILD_ASAN_DIR:-$ROOT/build-asan}
BUILD_FUZZ=${PYMCP_BUILD_FUZZ_DIR:-$ROOT/build-fuzz}

# Debian packages the build and the tests need.  Only missing ones are
# installed, so a second run does not touch apt at all.
DEB_PACKAGES=(
	build-essential cmake pkg-config
	libuv1-dev libjansson-dev libseccomp-dev libcap-dev nettle-dev libnftables-dev libh2o-dev libssl-dev libcjose-dev
	python3 python3-venv python3-pip python3-jsonschema python3-jwt python3-cryptography
	python3-numpy python3-scipy python3-pandas python3-matplotlib python3-sklearn
	libpython3.11-testsuite
	clang libclang-rt-dev clang-format
	procps iproute2 systemd util-linux mount
	passt
)

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		log "need root to run: $* (install sudo or run as root)"
		return 1
	fi
}

install_packages() {
	local missing=()
	for p in "${DEB_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	# The TypeScript SDK test needs node and npm.  A machine that has them
	# from elsewhere (NodeSource bundles npm) keeps its own; Debian's
	# packages are installed only where there is no npm at all.
	if ! command -v npm >/dev/null 2>&1; then
		missing+=(nodejs npm)
	fi
	if [ ${#missing[@]} -eq 0 ]; then
		return 0
	fi
	log "installing Debian packages: ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >&2
}

# build DIR [cmake options...]
# Progress goes to stderr: scripts/run's stdout belongs to the MCP client.
build() {
	local dir=$1
	shift
	cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >&2
	cmake --build "$dir" -j"$(nproc)" >&2
}

# build_targets DIR "TARGET..." [cmake options...]: only those targets.
build_targets() {
	local dir=$1 targets=$2 t
	shift 2
	cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >&2
	for t in $targets; do
		cmake --build "$dir" -j"$(nproc)" --target "$t" >&2
	done
}
