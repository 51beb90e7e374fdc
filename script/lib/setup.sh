# Shared steps of script/demo and script/test (sourced, not run): find Python, keep
# .venv installed, install Debian packages when missing.  The caller has cd'ed to the
# repository root and set -euo pipefail.

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly when we are root, else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    return 1
  fi
}

# apt_install PACKAGE... — install Debian packages non-interactively, or fail loudly.
apt_install() {
  command -v apt-get >/dev/null 2>&1 \
    || die "需要安装 / please install: $* (no apt-get on this machine)"
  say "安装 / installing Debian packages: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
    || die "无法安装 / could not install: $* (run as root or with sudo, or install them by hand)"
}

# deb_installed PACKAGE — true when dpkg knows the package as installed.
deb_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# find_python — print the first interpreter that is Python >= 3.11.
find_python() {
  local candidate
  for candidate in python3.11 python3 python3.12 python3.13; do
    if command -v "$candidate" >/dev/null 2>&1 \
      && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

# ensure_venv [EXTRA] — create .venv when missing and `pip install -e .[EXTRA]` when
# pyproject.toml changed since the last install with that extra.
ensure_venv() {
  local extra="${1:-}" spec stamp python
  spec=".${extra:+[$extra]}"
  stamp=".venv/.powercis-installed${extra:+-$extra}"
  if [ ! -x .venv/bin/python ]; then
    python="$(find_python)" || die "需要 Python ≥ 3.11 / Python 3.11 or newer is required (python3.11 or python3)"
    say "创建虚拟环境 / creating .venv with $python"
    rm -rf .venv
    if ! "$python" -m venv .venv 2>/dev/null; then
      # Debian ships the venv module separately.
      rm -rf .venv
      apt_install "python3-venv" "$(basename "$python")-venv"
      "$python" -m venv .venv || die "could not create .venv"
    fi
  fi
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    say "安装依赖 / installing powercis $spec into .venv (quietly; takes a minute the first time)"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
    touch "$stamp"
  fi
}
