import { common } from './i18n/common.ts';
import { useT } from './i18n/index.ts';
import type { DeviceStatus, Severity } from './types.ts';

/** Each severity has an icon and its name, never its colour alone. */
export const SEVERITY_ICON: Record<Severity, string> = {
  critical: '‼',
  major: '▲',
  minor: '▼',
  warning: 'ⓘ',
};
export const STATUS_ICON: Record<DeviceStatus, string> = { online: '●', offline: '○', disabled: '⊘' };

export function SeverityBadge({ severity, count }: { severity: Severity; count?: number }) {
  const t = useT(common);
  return (
    <span class={`sev sev-${severity}`} data-severity={severity}>
      <span aria-hidden="true" class={`ico ico-${severity}`}>
        {SEVERITY_ICON[severity]}
      </span>{' '}
      {t(`severity_${severity}`)}
      {count !== undefined && <b class="count">{count}</b>}
    </span>
  );
}

export function StatusBadge({ status }: { status: DeviceStatus }) {
  const t = useT(common);
  return (
    <span class={`sev st-${status}`} data-status={status}>
      <span aria-hidden="true">{STATUS_ICON[status]}</span> {t(`status_${status}`)}
    </span>
  );
}

/** "3 min" / "2 h" since a time. */
export function age(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d`;
}
