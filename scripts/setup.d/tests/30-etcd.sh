#!/usr/bin/env bash
# A real etcd for test/activities/etcd.test.ts: Debian's etcd-server (3.4.x on bookworm; same peer-RTT metric,
# label and buckets as 3.5). Only the binary is used; the packaged service is not needed by the tests.
source "$(dirname "$0")/../../lib.sh"
apt_install etcd-server
command -v etcd >/dev/null || { echo "30-etcd: etcd-server installed but 'etcd' is not on PATH" >&2; exit 1; }
etcd --version >/dev/null
