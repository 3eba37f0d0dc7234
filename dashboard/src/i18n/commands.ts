import type { Strings } from './index.ts';

/** Strings of the command form and command states, shared by the device and bulk pages. */
export const commandStrings: Strings<
  | 'command'
  | 'send'
  | 'sending'
  | 'confirmTitle'
  | 'confirmGuard'
  | 'confirmSend'
  | 'cancel'
  | 'yes'
  | 'no'
  | 'required'
  | 'outOfRange'
  | 'notNumber'
  | 'notInteger'
  | 'range'
  | 'onceEvery'
  | 'progress'
  | 'finalState'
  | 'result'
  | 'cmd_setDimming'
  | 'cmd_switchLamp'
  | 'cmd_setRelay'
  | 'cmd_readNow'
  | 'cmd_setValve'
  | 'cmd_setReportInterval'
  | 'desc_setDimming'
  | 'desc_switchLamp'
  | 'desc_setRelay'
  | 'desc_readNow'
  | 'desc_setValve'
  | 'desc_setReportInterval'
  | 'param_level'
  | 'param_on'
  | 'param_closed'
  | 'param_percent'
  | 'param_seconds'
  | 'state_queued'
  | 'state_sent'
  | 'state_delivered'
  | 'state_succeeded'
  | 'state_failed'
  | 'state_timed_out'
  | 'state_expired'
  | 'state_cancelled'
> = {
  vi: {
    command: 'Lệnh',
    send: 'Gửi lệnh',
    sending: 'Đang gửi…',
    confirmTitle: 'Xác nhận lệnh',
    confirmGuard: 'Lệnh này cần xác nhận rõ ràng: {what}. Bạn có chắc muốn gửi?',
    confirmSend: 'Xác nhận và gửi',
    cancel: 'Huỷ',
    yes: 'Có',
    no: 'Không',
    required: '{field}: bắt buộc',
    outOfRange: '{field}: phải trong khoảng {min} đến {max}',
    notNumber: '{field}: phải là một số',
    notInteger: '{field}: phải là số nguyên',
    range: 'từ {min} đến {max}',
    onceEvery: 'Tối đa một lần mỗi {seconds} giây trên một thiết bị',
    progress: 'Tiến trình lệnh',
    finalState: 'Trạng thái cuối: {state}',
    result: 'Kết quả',
    cmd_setDimming: 'Đặt độ sáng',
    cmd_switchLamp: 'Bật/tắt đèn',
    cmd_setRelay: 'Đóng/cắt rơ-le',
    cmd_readNow: 'Đọc chỉ số ngay',
    cmd_setValve: 'Đặt độ mở van',
    cmd_setReportInterval: 'Đặt chu kỳ gửi số liệu',
    desc_setDimming: 'Đặt độ sáng của đèn, tính theo phần trăm',
    desc_switchLamp: 'Bật hoặc tắt đèn',
    desc_setRelay: 'Đóng (cấp điện) hoặc cắt (ngắt điện) rơ-le của công tơ',
    desc_readNow: 'Yêu cầu công tơ gửi chỉ số ngay',
    desc_setValve: 'Đặt độ mở van, tính theo phần trăm',
    desc_setReportInterval: 'Đặt khoảng thời gian giữa hai lần gửi số liệu, tính bằng giây',
    param_level: 'Mức sáng',
    param_on: 'Bật đèn',
    param_closed: 'Đóng rơ-le (cấp điện)',
    param_percent: 'Độ mở',
    param_seconds: 'Chu kỳ',
    state_queued: 'Đang chờ',
    state_sent: 'Đã gửi',
    state_delivered: 'Đã nhận',
    state_succeeded: 'Thành công',
    state_failed: 'Thất bại',
    state_timed_out: 'Quá thời gian',
    state_expired: 'Hết hạn',
    state_cancelled: 'Đã huỷ',
  },
  en: {
    command: 'Command',
    send: 'Send command',
    sending: 'Sending…',
    confirmTitle: 'Confirm the command',
    confirmGuard: 'This command needs an explicit confirmation: {what}. Send it?',
    confirmSend: 'Confirm and send',
    cancel: 'Cancel',
    yes: 'Yes',
    no: 'No',
    required: '{field}: required',
    outOfRange: '{field}: must be between {min} and {max}',
    notNumber: '{field}: must be a number',
    notInteger: '{field}: must be a whole number',
    range: 'from {min} to {max}',
    onceEvery: 'At most once every {seconds} s per device',
    progress: 'Command progress',
    finalState: 'Final state: {state}',
    result: 'Result',
    cmd_setDimming: 'Set dimming',
    cmd_switchLamp: 'Switch lamp',
    cmd_setRelay: 'Set relay',
    cmd_readNow: 'Read now',
    cmd_setValve: 'Set valve',
    cmd_setReportInterval: 'Set report interval',
    desc_setDimming: 'Dim the lamp to a level in percent',
    desc_switchLamp: 'Switch the lamp on or off',
    desc_setRelay: 'Close (connect) or open (disconnect) the supply relay',
    desc_readNow: 'Ask the meter for a reading now',
    desc_setValve: 'Move the valve to an opening in percent',
    desc_setReportInterval: 'Set how often the sensor reports, in seconds',
    param_level: 'Level',
    param_on: 'Lamp on',
    param_closed: 'Relay closed (supply on)',
    param_percent: 'Opening',
    param_seconds: 'Interval',
    state_queued: 'Queued',
    state_sent: 'Sent',
    state_delivered: 'Delivered',
    state_succeeded: 'Succeeded',
    state_failed: 'Failed',
    state_timed_out: 'Timed out',
    state_expired: 'Expired',
    state_cancelled: 'Cancelled',
  },
};
