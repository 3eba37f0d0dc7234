import type { Strings } from './index.ts';

export const overview: Strings<
  | 'heading'
  | 'devices'
  | 'total'
  | 'family'
  | 'readingsPerSecond'
  | 'cityWide'
  | 'openAlarms'
  | 'map'
  | 'mapLabel'
  | 'mapHelp'
  | 'legend'
  | 'districts'
  | 'district'
  | 'health'
  | 'health_ok'
  | 'health_degraded'
  | 'health_alarm'
  | 'health_critical'
  | 'health_empty'
  | 'filterBy'
  | 'noData'
  | 'alarmsOn'
> = {
  vi: {
    heading: 'Tổng quan thành phố',
    devices: 'Thiết bị',
    total: 'Tổng',
    family: 'Loại',
    readingsPerSecond: 'Số đo mỗi giây',
    cityWide: 'toàn thành phố',
    openAlarms: 'Cảnh báo đang mở',
    map: 'Bản đồ Hà Nội',
    mapLabel:
      'Bản đồ Hà Nội với {count} thiết bị; phím mũi tên để di chuyển, + và − để phóng to, thu nhỏ, 0 để xem toàn cảnh',
    mapHelp:
      'Kéo để di chuyển, cuộn để phóng to; nhấp vào nhóm để phóng to, vào thiết bị để mở, vào tên quận để lọc.',
    legend: 'Chú giải',
    districts: 'Quận, huyện, thị xã',
    district: 'Quận/huyện',
    health: 'Tình trạng',
    health_ok: 'Bình thường',
    health_degraded: 'Suy giảm',
    health_alarm: 'Có cảnh báo',
    health_critical: 'Nghiêm trọng',
    health_empty: 'Chưa có thiết bị',
    filterBy: 'Lọc theo {name}',
    noData: 'Chưa có dữ liệu',
    alarmsOn: 'thiết bị có cảnh báo',
  },
  en: {
    heading: 'City overview',
    devices: 'Devices',
    total: 'Total',
    family: 'Family',
    readingsPerSecond: 'Readings per second',
    cityWide: 'city-wide',
    openAlarms: 'Open alarms',
    map: 'Map of Hanoi',
    mapLabel: 'Map of Hanoi with {count} devices; arrow keys pan, + and − zoom, 0 shows the whole city',
    mapHelp:
      'Drag to pan, scroll to zoom; click a cluster to zoom in, a device to open it, a district name to filter.',
    legend: 'Legend',
    districts: 'Districts',
    district: 'District',
    health: 'Health',
    health_ok: 'Normal',
    health_degraded: 'Degraded',
    health_alarm: 'Alarms',
    health_critical: 'Critical',
    health_empty: 'No devices',
    filterBy: 'Filter by {name}',
    noData: 'No data yet',
    alarmsOn: 'devices with alarms',
  },
};
