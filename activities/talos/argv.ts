// The talosctl command lines the activities send to a node through its apid, built in one place so the
// conformance test (test/conformance/talos.test.ts) runs exactly these through the real talosctl v1.9.5.

/** The authenticated client's target: this node, through its own apid, with the cluster's talosconfig. */
export const secure = (address: string, talosconfig: string): string[] => ['-n', address, '-e', address, '--talosconfig', talosconfig];

export const nodeArgv = {
  machineStatus: (address: string, talosconfig: string) => ['get', 'machinestatus', '-o', 'json', ...secure(address, talosconfig)],
  version: (address: string, talosconfig: string) => ['version', ...secure(address, talosconfig)],
  bootstrap: (address: string, talosconfig: string) => ['bootstrap', ...secure(address, talosconfig)],
  kubeconfig: (address: string, talosconfig: string, target: string) => ['kubeconfig', target, '--merge=false', '--force', ...secure(address, talosconfig)],
  etcdMembers: (address: string, talosconfig: string) => ['etcd', 'members', ...secure(address, talosconfig)],
  /** every member's status through one endpoint (a member that does not answer fails the command) */
  etcdStatus: (members: string[], via: string, talosconfig: string) => ['etcd', 'status', '-n', members.join(','), '-e', via, '--talosconfig', talosconfig],
  /** returns once the node acknowledged; the activity watches the reboot itself */
  upgrade: (address: string, talosconfig: string, image: string) => ['upgrade', ...secure(address, talosconfig), '--image', image, '--wait=false'],
  upgradeK8s: (address: string, talosconfig: string, from: string, to: string) =>
    ['upgrade-k8s', ...secure(address, talosconfig), '--from', from, '--to', to, '--with-docs=false', '--with-examples=false'],
};
