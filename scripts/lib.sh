# Shared by scripts/run, scripts/test and scripts/package. Source it; do not run it.
# Idempotent: installs only what is missing, configures only what is not configured.

M1_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Everything the build needs.
M1_BUILD_PACKAGES=(
    cmake ninja-build ccache g++ pkg-config
    qt6-base-dev qt6-base-dev-tools qt6-charts-dev qt6-tools-dev qt6-tools-dev-tools
    qt6-l10n-tools qt6-httpserver-dev qt6-websockets-dev
    libqt6opengl6-dev libxkbcommon-dev libvulkan-dev libgl-dev
    qtkeychain-qt6-dev libsecret-1-0 libssl-dev
    libqt6sql6-sqlite libqt6sql6-psql
    help2man qt6-translations-l10n
)
# What scripts/package needs on top: dpkg-shlibdeps (dpkg-dev) and file, for CPack's Depends.
M1_PACKAGE_PACKAGES=(dpkg-dev file)
# What the tests need on top: a display server, a session bus with a keychain, PostgreSQL,
# PyJWT for the interoperability test, a terminal multiplexer, the sanitizer runtime, and the
# validators of the desktop entry and the AppStream metainfo.
M1_TEST_PACKAGES=(
    xvfb xauth dbus dbus-x11 gnome-keyring libsecret-tools
    postgresql python3 python3-jwt bubblewrap tmux sqlite3
    clang clang-format prometheus
    desktop-file-utils appstream
)

m1_log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# m1_install_packages PKG...: installs the packages that are not installed yet.
m1_install_packages() {
    local missing=()
    local pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    m1_log "Installing: ${missing[*]}"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            echo "error: packages missing (${missing[*]}) and not root; install them and retry" >&2
            return 1
        fi
    fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends \
        "${missing[@]}"
}

# m1_build DIR [CMAKE_ARGS...]: configures (once) and builds with Ninja and ccache.
m1_build() {
    local dir="$1"
    shift
    export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
    export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
    # CI builds a fresh clone in another folder: hash paths relative to the checkout so the
    # cache still hits there.
    export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$M1_ROOT}"
    export CCACHE_NOHASHDIR=1
    if [ ! -f "$dir/build.ninja" ]; then
        m1_log "Configuring $dir"
        cmake -S "$M1_ROOT" -B "$dir" -G Ninja "$@"
    fi
    m1_log "Building $dir"
    cmake --build "$dir" --parallel "$(nproc)"
}

# m1_package DIR: builds the Debian package from the build folder DIR into DIR/packages and prints
# the .deb's path (nothing else) on stdout. DIR must be built already: CPack's preinstall step
# then has nothing left to compile.
m1_package() {
    local dir="$1"
    m1_log "Packaging $dir"
    rm -f "$dir"/packages/m1-agent-control_*.deb
    # cpack reports on stdout; keep stdout for the path.
    cpack --config "$dir/CPackConfig.cmake" -G DEB >&2
    local debs=("$dir"/packages/m1-agent-control_*.deb)
    if [ ! -f "${debs[0]}" ]; then
        echo "error: cpack made no .deb in $dir/packages" >&2
        return 1
    fi
    printf '%s\n' "${debs[0]}"
}
