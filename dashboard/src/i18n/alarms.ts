import type { Strings } from './index.ts';

export const alarms: Strings<
  | 'heading'
  | 'severity'
  | 'state'
  | 'device'
  | 'place'
  | 'message'
  | 'age'
  | 'occurrences'
  | 'actions'
  | 'ack'
  | 'shelve'
  | 'unshelve'
  | 'reason'
  | 'reasonPlaceholder'
  | 'minutes'
  | 'confirmShelve'
  | 'cancel'
  | 'none'
  | 'all'
  | 'showShelved'
  | 'state_active_unacknowledged'
  | 'state_active_acknowledged'
  | 'state_cleared_unacknowledged'
  | 'state_closed'
  | 'shelvedUntil'
  | 'flood'
  | 'floodCalm'
  | 'newCritical'
  | 'view'
  | 'dismiss'
  | 'sound'
  | 'failed'
  | 'count'
> = {
  vi: {
    heading: 'Bảng cảnh báo',
    severity: 'Mức độ',
    state: 'Trạng thái',
    device: 'Thiết bị',
    place: 'Địa điểm',
    message: 'Nội dung',
    age: 'Thời gian',
    occurrences: 'Số lần',
    actions: 'Thao tác',
    ack: 'Xác nhận',
    shelve: 'Tạm ẩn',
    unshelve: 'Bỏ tạm ẩn',
    reason: 'Lý do',
    reasonPlaceholder: 'Vì sao tạm ẩn cảnh báo này?',
    minutes: 'Thời hạn',
    confirmShelve: 'Tạm ẩn',
    cancel: 'Hủy',
    none: 'Không có cảnh báo nào đang mở.',
    all: 'Tất cả mức độ',
    showShelved: 'Hiện cả cảnh báo tạm ẩn',
    state_active_unacknowledged: 'Chưa xác nhận',
    state_active_acknowledged: 'Đã xác nhận',
    state_cleared_unacknowledged: 'Đã hết, chưa xác nhận',
    state_closed: 'Đã đóng',
    shelvedUntil: 'Tạm ẩn đến {time}: {reason}',
    flood: 'Bão cảnh báo: {count} cảnh báo trong 10 phút qua',
    floodCalm: '{count} cảnh báo mới trong 10 phút qua',
    newCritical: 'Cảnh báo nghiêm trọng mới',
    view: 'Xem',
    dismiss: 'Đóng thông báo',
    sound: 'Âm thanh',
    failed: 'Không thực hiện được: {message}',
    count: '{count} cảnh báo',
  },
  en: {
    heading: 'Alarms console',
    severity: 'Severity',
    state: 'State',
    device: 'Device',
    place: 'Place',
    message: 'Message',
    age: 'Age',
    occurrences: 'Times',
    actions: 'Actions',
    ack: 'Acknowledge',
    shelve: 'Shelve',
    unshelve: 'Unshelve',
    reason: 'Reason',
    reasonPlaceholder: 'Why shelve this alarm?',
    minutes: 'For',
    confirmShelve: 'Shelve',
    cancel: 'Cancel',
    none: 'No open alarms.',
    all: 'All severities',
    showShelved: 'Show shelved alarms too',
    state_active_unacknowledged: 'Unacknowledged',
    state_active_acknowledged: 'Acknowledged',
    state_cleared_unacknowledged: 'Cleared, unacknowledged',
    state_closed: 'Closed',
    shelvedUntil: 'Shelved until {time}: {reason}',
    flood: 'Alarm flood: {count} alarms in the last 10 minutes',
    floodCalm: '{count} new alarms in the last 10 minutes',
    newCritical: 'New critical alarm',
    view: 'View',
    dismiss: 'Dismiss',
    sound: 'Sound',
    failed: 'Could not do it: {message}',
    count: '{count} alarms',
  },
};
