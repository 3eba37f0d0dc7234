import createError from '@fastify/error';

// Error codes of the live events and webhooks (issue 9), declared once; a retired code is not reused.
export const EventsBusyError = createError<'EVT_ERR_TOO_MANY_CLIENTS', [number]>(
  'EVT_ERR_TOO_MANY_CLIENTS',
  'the events stream already has its %d clients (EVENTS_MAX_CLIENTS); retry later',
  503,
);
export const WebhookLimitError = createError<'EVT_ERR_WEBHOOK_LIMIT', [number]>(
  'EVT_ERR_WEBHOOK_LIMIT',
  'at most %d webhooks can be registered; delete one first',
  409,
);
export const WebhookNotFoundError = createError<'EVT_ERR_WEBHOOK_NOT_FOUND', [string]>(
  'EVT_ERR_WEBHOOK_NOT_FOUND',
  'webhook %s not found',
  404,
);
