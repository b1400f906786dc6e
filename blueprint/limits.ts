// Every bound a blueprint is held to, in one place. Workflow-safe (plain constants): the rollout reads the
// Golden Rule from here too. docs/blueprint.md lists each with the upstream fact behind it.

/** The Golden Rule: etcd (Raft) peers well under 10 ms apart. The default etcd latency budget. */
export const GOLDEN_RULE_ETCD_RTT_MS = 10;
/**
 * No waiver raises the etcd budget past this. etcd's defaults (100 ms heartbeat, 1 s election timeout, which
 * the tuning guide wants >= 10x the RTT) stop working near 100 ms; half of that leaves room for the spread
 * between a p99 and the next bad minute. Above it, the cluster is the stretched control plane this tool exists to
 * prevent: build two clusters and mesh them.
 */
export const ETCD_BUDGET_HARD_MAX_MS = 50;

/** A blueprint is a few hundred lines; anything near this is a wrong file, not a big mesh. */
export const MAX_BLUEPRINT_BYTES = 1024 * 1024;
/** YAML values (scalars and collections) in one file: about 10x the largest mesh these limits allow to fit in 1 MiB. */
export const MAX_YAML_NODES = 100_000;
/** Nesting of `[...]`/`{...}`: a blueprint needs 5; deep nesting is how a small file exhausts a parser. */
export const MAX_FLOW_DEPTH = 32;
/** Nesting of any value; the deepest blueprint field sits 7 levels down. */
export const MAX_VALUE_DEPTH = 32;
/** Problems listed in one report; the rest are counted, so a broken file never produces megabytes of errors. */
export const MAX_REPORTED_ISSUES = 100;

/** Cilium cluster IDs go up to 511 (clustermesh.maxConnectedClusters 511), and every cluster needs its own. */
export const MAX_CLUSTERS = 511;
/** Kubernetes' documented scalability limit: no more than 5,000 nodes per cluster. */
export const MAX_NODES_PER_CLUSTER = 5000;
/** Dual-stack Kubernetes takes at most one CIDR per family for pods and for services. */
export const MAX_CIDRS_PER_FAMILY_LIST = 2;
export const MAX_NODE_SUBNETS = 32;
export const MAX_POOL_BLOCKS = 256;
export const MAX_INTERFACE_PATTERNS = 32;
export const MAX_BGP_PEERS = 64;
export const MAX_GLOBAL_SERVICES = 1000;
export const MAX_POLICIES = 1000;
export const MAX_LIST = 100;
export const MAX_LABELS = 64;
export const MAX_TEXT = 2000;
export const MAX_URL = 2048;
export const MAX_PATTERN = 256;
