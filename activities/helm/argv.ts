// The helm command lines the activities run, built in one place so the conformance test
// (test/conformance/helm.test.ts) runs exactly these through the real Helm 3.16.

export const NS = 'kube-system';
export const RELEASE = 'cilium';
export const CHART_REPO = 'https://helm.cilium.io/';
/** helm's own deadline; the activity's is a little longer, so helm reports its timeout itself */
export const HELM_TIMEOUT = '5m0s';

export const helmArgv = {
  version: () => ['version', '--short'],
  history: (release = RELEASE, namespace = NS) => ['history', release, '-n', namespace, '-o', 'json', '--max', '256'],
  getValues: (kubeContext?: string) => ['get', 'values', RELEASE, '-n', NS, '-o', 'json', ...(kubeContext ? ['--kube-context', kubeContext] : [])],
  rollback: (revision: number) => ['rollback', RELEASE, String(revision), '-n', NS],
  uninstall: () => ['uninstall', RELEASE, '-n', NS],
  /**
   * No --wait: readiness is ciliumReady's job, and with a LoadBalancer apiserver --wait would block on LB-IPAM and
   * leave a `failed` revision behind instead of a diagnosis. Secret values come through stdin (`--values -`),
   * merged after the file as a later -f would be.
   */
  install: (chartVersion: string, valuesFile: string, secretValuesOnStdin: boolean) => [
    'upgrade', '--install', RELEASE, 'cilium', '--repo', CHART_REPO, '--version', chartVersion, '-n', NS, '--values', valuesFile,
    ...(secretValuesOnStdin ? ['--values', '-'] : []),
    '--timeout', HELM_TIMEOUT, '-o', 'json',
  ],
  /** a values change on top of what the release holds (a peer-list edit) */
  reuseValues: (chartVersion: string, file: string) =>
    ['upgrade', RELEASE, 'cilium', '--repo', CHART_REPO, '--version', chartVersion, '-n', NS, '--reuse-values', '-f', file, '--timeout', HELM_TIMEOUT, '-o', 'json'],
};
