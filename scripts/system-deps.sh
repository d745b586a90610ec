#!/bin/sh
# Installs the Debian packages sipfsm needs (graphviz, sip-tester, tshark, kamailio, gcc, python3-dev), when they are missing and apt-get is usable;
# otherwise says what to install. Used by `make demo` and `make test`.
set -eu
need=""
command -v dot >/dev/null 2>&1 || need="$need graphviz"     # renders the diagrams
command -v sipp >/dev/null 2>&1 || need="$need sip-tester"  # real SIP peer for the checker tests
command -v tshark >/dev/null 2>&1 || need="$need tshark"    # captures SIPp's calls as pcap
command -v kamailio >/dev/null 2>&1 || need="$need kamailio"  # a real proxy the live tests probe (not started as a service)
command -v cc >/dev/null 2>&1 || need="$need gcc"              # compiles the fast build (mypyc)
"${PYTHON:-python3}" -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    || need="$need python3-dev"                                # Python's headers, for the same
[ -z "$need" ] && exit 0
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing Debian packages:$need"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
    echo "installing Debian packages with sudo:$need"
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
else
    echo "sipfsm needs these system packages:$need" >&2
    echo "install them with your package manager (Debian/Ubuntu: apt-get install$need)" >&2
    exit 1
fi
