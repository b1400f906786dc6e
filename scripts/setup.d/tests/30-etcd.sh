#!/usr/bin/env bash
# A real etcd for test/activities/etcd.test.ts: Debian's etcd-server (3.4.x on bookworm; same peer-RTT metric,
# label and buckets as 3.5). Only the binary is used; the packaged service is not needed by the tests.
# etcd-client brings etcdctl, whose `snapshot save` and `snapshot restore` test/backup/real-etcd.test.ts uses to
# prove that a snapshot meshpilot stored and retrieved restores (3.4 has no etcdutl; its etcdctl restores).
source "$(dirname "$0")/../../lib.sh"
apt_install etcd-server etcd-client
command -v etcd >/dev/null || { echo "30-etcd: etcd-server installed but 'etcd' is not on PATH" >&2; exit 1; }
command -v etcdctl >/dev/null || { echo "30-etcd: etcd-client installed but 'etcdctl' is not on PATH" >&2; exit 1; }
etcd --version >/dev/null
