import { common } from '../i18n/common.ts';
import { useT } from '../i18n/index.ts';

/** Placeholder until the device page lands (branch dash-device). */
export function DeviceView({ params }: { params: Record<string, string> }) {
  const t = useT(common);
  return (
    <section>
      <h1>
        {t('devices')}: <span data-testid="device-id">{params.id}</span>
      </h1>
    </section>
  );
}
