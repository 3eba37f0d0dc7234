import type { Strings } from './index.ts';

export const deviceStrings: Strings<
  | 'identity'
  | 'model'
  | 'family'
  | 'firmware'
  | 'place'
  | 'coordinates'
  | 'tags'
  | 'lastSeen'
  | 'never'
  | 'lastReading'
  | 'at'
  | 'noReading'
  | 'field'
  | 'value'
  | 'state'
  | 'reported'
  | 'desired'
  | 'matches'
  | 'differs'
  | 'noState'
  | 'desiredVersion'
  | 'history'
  | 'noHistory'
  | 'historySource'
  | 'alarms'
  | 'noAlarms'
  | 'severity'
  | 'message'
  | 'raisedAt'
  | 'commands'
  | 'sendCommand'
  | 'noCommands'
  | 'requestedBy'
  | 'params'
  | 'status'
  | 'time'
  | 'bulk'
  | 'back'
  | 'alarm_active_unacknowledged'
  | 'alarm_active_acknowledged'
  | 'alarm_cleared_unacknowledged'
  | 'alarm_closed'
> = {
  vi: {
    identity: 'Thông tin thiết bị',
    model: 'Kiểu thiết bị',
    family: 'Loại',
    firmware: 'Phần mềm (firmware)',
    place: 'Vị trí',
    coordinates: 'Toạ độ',
    tags: 'Nhãn',
    lastSeen: 'Lần cuối liên lạc',
    never: 'chưa bao giờ',
    lastReading: 'Số liệu mới nhất',
    at: 'lúc {time}',
    noReading: 'Chưa có số liệu.',
    field: 'Trường',
    value: 'Giá trị',
    state: 'Trạng thái báo cáo và mong muốn',
    reported: 'Thiết bị báo',
    desired: 'Mong muốn',
    matches: 'khớp',
    differs: 'khác',
    noState: 'Chưa có trạng thái.',
    desiredVersion: 'Phiên bản trạng thái mong muốn: {n}',
    history: 'Diễn biến 24 giờ qua',
    noHistory: 'Chưa có dữ liệu lịch sử trong 24 giờ qua.',
    historySource: 'Nguồn: {source}, mỗi điểm {step}',
    alarms: 'Cảnh báo của thiết bị',
    noAlarms: 'Không có cảnh báo.',
    severity: 'Mức độ',
    message: 'Nội dung',
    raisedAt: 'Phát sinh',
    commands: 'Lịch sử lệnh',
    sendCommand: 'Gửi lệnh',
    noCommands: 'Chưa có lệnh nào.',
    requestedBy: 'Người gửi',
    params: 'Tham số',
    status: 'Trạng thái',
    time: 'Thời điểm',
    bulk: 'hàng loạt',
    back: 'Về tổng quan',
    alarm_active_unacknowledged: 'Đang xảy ra, chưa xác nhận',
    alarm_active_acknowledged: 'Đang xảy ra, đã xác nhận',
    alarm_cleared_unacknowledged: 'Đã hết, chưa xác nhận',
    alarm_closed: 'Đã đóng',
  },
  en: {
    identity: 'Identity',
    model: 'Model',
    family: 'Family',
    firmware: 'Firmware',
    place: 'Place',
    coordinates: 'Coordinates',
    tags: 'Tags',
    lastSeen: 'Last seen',
    never: 'never',
    lastReading: 'Last reading',
    at: 'at {time}',
    noReading: 'No reading yet.',
    field: 'Field',
    value: 'Value',
    state: 'Reported and desired state',
    reported: 'Reported',
    desired: 'Desired',
    matches: 'matches',
    differs: 'differs',
    noState: 'No state yet.',
    desiredVersion: 'Desired state version {n}',
    history: 'Last 24 hours',
    noHistory: 'No history in the last 24 hours.',
    historySource: 'Source: {source}, one point per {step}',
    alarms: 'Alarms of this device',
    noAlarms: 'No alarms.',
    severity: 'Severity',
    message: 'Message',
    raisedAt: 'Raised',
    commands: 'Command history',
    sendCommand: 'Send a command',
    noCommands: 'No commands yet.',
    requestedBy: 'Requested by',
    params: 'Params',
    status: 'Status',
    time: 'Time',
    bulk: 'bulk',
    back: 'Back to the overview',
    alarm_active_unacknowledged: 'Active, unacknowledged',
    alarm_active_acknowledged: 'Active, acknowledged',
    alarm_cleared_unacknowledged: 'Cleared, unacknowledged',
    alarm_closed: 'Closed',
  },
};
