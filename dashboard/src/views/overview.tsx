import { useMemo } from 'preact/hooks';
import { cityStats, type DistrictStats, type Health } from '../city-stats.ts';
import { SeverityBadge, STATUS_ICON } from '../components.tsx';
import { districtFilter } from '../filter.ts';
import { common } from '../i18n/common.ts';
import { formatNumber, useT } from '../i18n/index.ts';
import { overview } from '../i18n/overview.ts';
import { live } from '../live.ts';
import { CityMap } from '../map/city-map.tsx';
import { RANK_COLOUR } from '../map/ranks.ts';
import { useValue } from '../state.ts';
import { SEVERITIES } from '../types.ts';

const HEALTH_ICON: Record<Health, string> = { ok: '✔', degraded: '◐', alarm: '▲', critical: '‼', empty: '–' };

export function OverviewView() {
  const t = useT(overview);
  const c = useT(common);
  const version = useValue(live.version);
  const districtName = useValue(districtFilter);
  const city = live.city;
  const district =
    city && districtName !== null ? city.districts.findIndex((d) => d.name === districtName) : -1;
  const selected = district >= 0 ? district : null;
  const stats = useMemo(() => cityStats(selected), [version, selected]);
  if (!city)
    return (
      <section data-view="overview">
        {live.error ? c('error', { message: live.error }) : c('loading')}
      </section>
    );
  const select = (i: number | null) => districtFilter.set(i === null ? null : city.districts[i].name);
  return (
    <section data-view="overview" class="overview">
      <h1>
        {t('heading')}
        {districtName && ` · ${districtName}`}
      </h1>
      <div class="cards">
        <div class="panel card">
          <h2>{t('devices')}</h2>
          <p class="big" data-testid="device-count">
            {formatNumber(stats.total.devices)}
          </p>
          <table class="compact">
            <thead>
              <tr>
                <th>{t('family')}</th>
                <th class="num">
                  <span aria-hidden="true">{STATUS_ICON.online}</span> {c('status_online')}
                </th>
                <th class="num">
                  <span aria-hidden="true">{STATUS_ICON.offline}</span> {c('status_offline')}
                </th>
              </tr>
            </thead>
            <tbody>
              {[...stats.perFamily].map(([family, n]) => (
                <tr data-family={family}>
                  <td>{c(`family_${family}` as 'family_streetlight') ?? family}</td>
                  <td class="num st-online">{formatNumber(n.online)}</td>
                  <td class="num st-offline">{formatNumber(n.offline + n.disabled)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div class="panel card">
          <h2>{t('readingsPerSecond')}</h2>
          <p class="big" data-testid="readings-per-second">
            {live.summary ? formatNumber(live.summary.readingsPerSecond, 1) : '–'}
          </p>
          <p class="muted">{t('cityWide')}</p>
        </div>
        <div class="panel card">
          <h2>{t('openAlarms')}</h2>
          <ul class="sev-list" data-testid="open-alarms">
            {SEVERITIES.map((s) => (
              <li>
                <a href={`#/alarms?severity=${s}`}>
                  <SeverityBadge severity={s} />
                </a>
                <b class="num">{formatNumber(stats.alarms[s])}</b>
              </li>
            ))}
          </ul>
        </div>
      </div>
      <div class="map-row">
        <div class="panel map-panel">
          <h2>{t('map')}</h2>
          <CityMap
            city={city}
            version={version}
            district={selected}
            onDistrict={select}
            label={t('mapLabel', { count: stats.total.devices })}
            describe={(i) => describe(city, i, c)}
          />
          <p class="muted small">{t('mapHelp')}</p>
          <Legend />
        </div>
        <DistrictList districts={stats.districts} selected={selected} onSelect={select} />
      </div>
    </section>
  );
}

function describe(city: NonNullable<typeof live.city>, i: number, c: ReturnType<typeof useT<any>>): string {
  const status = c(`status_${['online', 'offline', 'disabled'][city.status[i]]}`);
  const alarm = city.alarm[i] >= 0 ? ` · ${c(`severity_${SEVERITIES[city.alarm[i]]}`)}` : '';
  return `${city.ids[i]} · ${city.districts[city.district[i]].name} · ${status}${alarm}`;
}

function Legend() {
  const t = useT(overview);
  const c = useT(common);
  const items: Array<[string, string, string]> = [
    ...SEVERITIES.map((s): [string, string, string] => ['◆', RANK_COLOUR[s], c(`severity_${s}`)]),
    ['●', RANK_COLOUR.online, c('status_online')],
    ['○', RANK_COLOUR.offline, c('status_offline')],
    ['✕', RANK_COLOUR.disabled, c('status_disabled')],
  ];
  return (
    <ul class="legend" aria-label={t('legend')}>
      {items.map(([icon, colour, label]) => (
        <li>
          <span aria-hidden="true" style={{ color: colour }}>
            {icon}
          </span>{' '}
          {label}
        </li>
      ))}
    </ul>
  );
}

function DistrictList(props: {
  districts: DistrictStats[];
  selected: number | null;
  onSelect(i: number | null): void;
}) {
  const t = useT(overview);
  const c = useT(common);
  return (
    <div class="panel districts">
      <h2>{t('districts')}</h2>
      <table data-testid="district-list">
        <thead>
          <tr>
            <th>{t('district')}</th>
            <th class="num">{t('devices')}</th>
            <th class="num">{c('status_offline')}</th>
            <th>{t('health')}</th>
          </tr>
        </thead>
        <tbody>
          {props.districts.map((d) => (
            <tr
              class={d.index === props.selected ? 'selected' : ''}
              data-district={d.name}
              data-health={d.health}
            >
              <td>
                <button
                  type="button"
                  class="link"
                  aria-pressed={d.index === props.selected}
                  title={t('filterBy', { name: d.name })}
                  onClick={() => props.onSelect(d.index === props.selected ? null : d.index)}
                >
                  {d.name}
                </button>
              </td>
              <td class="num">{formatNumber(d.devices)}</td>
              <td class="num">{formatNumber(d.offline)}</td>
              <td class={`health health-${d.health}`}>
                <span aria-hidden="true">{HEALTH_ICON[d.health]}</span> {t(`health_${d.health}`)}
                {d.alarmed > 0 && <span class="muted"> · {d.alarmed}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
