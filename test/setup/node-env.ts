/**
 * Points the shared test helpers (test/support) at the cluster with a node, for the test files
 * of the node project only: both clusters' kubeconfigs are in the environment when the whole
 * suite runs.
 */
const nodeKubeconfig = process.env.MESHID_NODE_KUBECONFIG;
if (nodeKubeconfig) process.env.MESHID_TEST_KUBECONFIG = nodeKubeconfig;
