import { common } from '../i18n/common.ts';
import { useT } from '../i18n/index.ts';

/** Placeholder until the bulk commands page lands (branch dash-device). */
export function BulkView() {
  const t = useT(common);
  return (
    <section>
      <h1>{t('bulk')}</h1>
    </section>
  );
}
