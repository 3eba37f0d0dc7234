import createError from '@fastify/error';

export const CampaignNotFoundError = createError<'CAMP_ERR_NOT_FOUND', [string]>(
  'CAMP_ERR_NOT_FOUND',
  'campaign %s not found',
  404,
);
export const CampaignNoDevicesError = createError<'CAMP_ERR_NO_DEVICES', [string]>(
  'CAMP_ERR_NO_DEVICES',
  'the selector matches no device that can take this firmware: %s',
  400,
);
export const CampaignGroupsError = createError<'CAMP_ERR_GROUPS_INVALID', [string]>(
  'CAMP_ERR_GROUPS_INVALID',
  'body.groups: %s',
  400,
);
export const CampaignSelectorError = createError<'CAMP_ERR_SELECTOR_INVALID', [string]>(
  'CAMP_ERR_SELECTOR_INVALID',
  'body.selector: %s',
  400,
);
export const CampaignStateError = createError<'CAMP_ERR_STATE', [string, string, string]>(
  'CAMP_ERR_STATE',
  'campaign %s is %s: it cannot %s',
  409,
);
