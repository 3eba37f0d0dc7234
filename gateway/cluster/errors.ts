import createError from '@fastify/error';

export const ClusterRegistryUnavailableError = createError<'GW_ERR_CLUSTER_UNAVAILABLE', [string]>(
  'GW_ERR_CLUSTER_UNAVAILABLE',
  'the node registry in Redis cannot be read (%s); /readyz says why',
  503,
);
