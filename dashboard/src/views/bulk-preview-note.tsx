import { bulkStrings } from '../i18n/bulk.ts';
import { formatNumber, useT } from '../i18n/index.ts';

/** The answer of POST /api/commands/bulk/preview. */
export interface Preview {
  matched: number;
  disabled: number;
  eligible: number;
  byModel: Record<string, number>;
  skipped: number;
  skippedReasons: Array<{ reason: string; devices: number }>;
  needsConfirm: boolean;
}

/** How many devices the choice reaches, which cannot take the command and why, and how long it takes. */
export function PreviewNote({
  preview,
  previewing,
  rate,
}: {
  preview: Preview | null;
  previewing: boolean;
  rate: number | null;
}) {
  const t = useT(bulkStrings);
  return (
    <div
      role="status"
      aria-live="polite"
      data-testid="bulk-preview"
      data-eligible={previewing ? '' : (preview?.eligible ?? '')}
    >
      {previewing ? (
        <p class="muted">{t('previewing')}</p>
      ) : (
        preview && (
          <>
            <p class="big">
              <strong>{t('matched', { eligible: formatNumber(preview.eligible) })}</strong>
            </p>
            {preview.disabled > 0 && (
              <p class="muted">{t('disabled', { n: formatNumber(preview.disabled) })}</p>
            )}
            {preview.skipped > 0 && (
              <>
                <p>{t('skipped', { n: formatNumber(preview.skipped) })}</p>
                <ul class="muted">
                  {preview.skippedReasons.map((r) => (
                    <li>
                      {r.reason}: {formatNumber(r.devices)}
                    </li>
                  ))}
                </ul>
              </>
            )}
            {rate !== null && preview.eligible > 0 && (
              <p class="muted">
                {t('duration', { seconds: formatNumber(Math.ceil(preview.eligible / rate)) })}
              </p>
            )}
          </>
        )
      )}
    </div>
  );
}
