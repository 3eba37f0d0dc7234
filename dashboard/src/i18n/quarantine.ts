import type { Strings } from './index.ts';

export const quarantine: Strings<
  | 'heading'
  | 'quarantineTab'
  | 'deadLettersTab'
  | 'quarantineHelp'
  | 'deadLettersHelp'
  | 'received'
  | 'device'
  | 'topic'
  | 'reasons'
  | 'payload'
  | 'size'
  | 'truncated'
  | 'encoding'
  | 'showRaw'
  | 'loadMore'
  | 'total'
  | 'empty'
  | 'deviceFilter'
  | 'at'
  | 'reason'
  | 'line'
  | 'inDistrict'
> = {
  vi: {
    heading: 'Cách ly và thư chết',
    quarantineTab: 'Dữ liệu bị cách ly',
    deadLettersTab: 'Thư chết (cơ sở dữ liệu từ chối)',
    quarantineHelp: 'Các bản tin thiết bị gửi lên nhưng không hợp lệ, kèm lý do và nội dung gốc.',
    deadLettersHelp: 'Các dòng cơ sở dữ liệu thời gian đã từ chối ghi, kèm lý do.',
    received: 'Nhận lúc',
    device: 'Thiết bị',
    topic: 'Chủ đề MQTT',
    reasons: 'Lý do',
    payload: 'Nội dung gốc',
    size: 'Kích thước',
    truncated: 'đã cắt bớt',
    encoding: 'mã hóa',
    showRaw: 'Xem nội dung gốc',
    loadMore: 'Tải thêm',
    total: 'Tổng: {count}',
    empty: 'Không có mục nào.',
    deviceFilter: 'Mã thiết bị',
    at: 'Lúc',
    reason: 'Lý do',
    line: 'Dòng dữ liệu',
    inDistrict: 'Chỉ hiện thiết bị thuộc {name} trong các mục đã tải.',
  },
  en: {
    heading: 'Quarantine and dead letters',
    quarantineTab: 'Quarantined readings',
    deadLettersTab: 'Dead letters (refused by the database)',
    quarantineHelp: 'Messages devices sent that were not valid, with the reasons and the raw payload.',
    deadLettersHelp: 'Lines the time-series database refused to write, with the reason.',
    received: 'Received',
    device: 'Device',
    topic: 'MQTT topic',
    reasons: 'Reasons',
    payload: 'Raw payload',
    size: 'Size',
    truncated: 'truncated',
    encoding: 'encoding',
    showRaw: 'Show the raw payload',
    loadMore: 'Load more',
    total: 'Total: {count}',
    empty: 'Nothing here.',
    deviceFilter: 'Device id',
    at: 'At',
    reason: 'Reason',
    line: 'Line',
    inDistrict: 'Only devices of {name} among the entries loaded.',
  },
};
