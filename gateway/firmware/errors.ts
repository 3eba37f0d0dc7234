import createError from '@fastify/error';

export const ArtifactNotFoundError = createError<'FW_ERR_NOT_FOUND', [string]>(
  'FW_ERR_NOT_FOUND',
  'firmware artifact %s not found',
  404,
);
export const ArtifactExistsError = createError<'FW_ERR_EXISTS', [string, string, string]>(
  'FW_ERR_EXISTS',
  'model %s already has firmware %s (artifact %s)',
  409,
);
export const ArtifactTooLargeError = createError<'FW_ERR_TOO_LARGE', [number]>(
  'FW_ERR_TOO_LARGE',
  'the firmware image is larger than %d bytes (FIRMWARE_MAX_BYTES)',
  413,
);
export const ArtifactEmptyError = createError<'FW_ERR_EMPTY', []>(
  'FW_ERR_EMPTY',
  'the firmware image is empty',
  400,
);
export const ChecksumMismatchError = createError<'FW_ERR_CHECKSUM', [string, string]>(
  'FW_ERR_CHECKSUM',
  'querystring.sha256: the uploaded image has sha256 %s, not %s',
  400,
);
export const ArtifactInvalidError = createError<'FW_ERR_INVALID', [string]>('FW_ERR_INVALID', '%s', 400);
export const ArtifactInUseError = createError<'FW_ERR_IN_USE', [string, string]>(
  'FW_ERR_IN_USE',
  'firmware artifact %s is used by campaign %s, which has not ended',
  409,
);
export const DownloadDeniedError = createError<'FW_ERR_DOWNLOAD_DENIED', []>(
  'FW_ERR_DOWNLOAD_DENIED',
  'a bearer token or a valid download token is required',
  401,
);
export const UploadContentTypeError = createError<'FW_ERR_CONTENT_TYPE', []>(
  'FW_ERR_CONTENT_TYPE',
  'send the image as the body with content-type: application/octet-stream',
  415,
);
