import type { Strings } from './index.ts';

export const bulkStrings: Strings<
  | 'title'
  | 'target'
  | 'family'
  | 'model'
  | 'district'
  | 'ward'
  | 'any'
  | 'rate'
  | 'rateHelp'
  | 'preview'
  | 'previewing'
  | 'matched'
  | 'disabled'
  | 'skipped'
  | 'duration'
  | 'pickSomething'
  | 'start'
  | 'confirmTitle'
  | 'confirmText'
  | 'confirmStart'
  | 'progress'
  | 'done'
  | 'running'
  | 'counts'
  | 'state'
  | 'devices'
  | 'problems'
  | 'device'
  | 'error'
  | 'newBulk'
  | 'viewerNotAllowed'
  | 'submitted'
> = {
  vi: {
    title: 'Lệnh hàng loạt',
    target: 'Chọn thiết bị',
    family: 'Loại thiết bị',
    model: 'Kiểu thiết bị',
    district: 'Quận/huyện',
    ward: 'Phường/xã',
    any: 'Tất cả',
    rate: 'Tốc độ gửi (thiết bị/giây)',
    rateHelp: 'Gửi dần để không làm quá tải lưới điện và máy chủ.',
    preview: 'Xem trước',
    previewing: 'Đang đếm…',
    matched: '{eligible} thiết bị sẽ nhận lệnh',
    disabled: '{n} thiết bị đã tắt, không gửi',
    skipped: '{n} thiết bị không nhận được lệnh này',
    duration: 'Thời gian gửi ước tính: {seconds} giây',
    pickSomething: 'Chọn ít nhất một tiêu chí: loại, kiểu, quận/huyện hoặc phường/xã.',
    start: 'Bắt đầu',
    confirmTitle: 'Xác nhận lệnh hàng loạt',
    confirmText: 'Gửi lệnh “{command}” {params} tới {n} thiết bị, {rate} thiết bị mỗi giây?',
    confirmStart: 'Xác nhận và bắt đầu',
    progress: 'Tiến độ',
    done: 'Hoàn tất: {final}/{total} thiết bị có kết quả cuối',
    running: 'Đang chạy: {final}/{total} thiết bị có kết quả cuối',
    counts: 'Số thiết bị theo trạng thái',
    state: 'Trạng thái',
    devices: 'Thiết bị',
    problems: 'Thiết bị chưa thành công',
    device: 'Thiết bị',
    error: 'Lỗi',
    newBulk: 'Lệnh hàng loạt mới',
    viewerNotAllowed: 'Vai trò của bạn chỉ được xem, không được gửi lệnh.',
    submitted: 'Đã giao lệnh: {n}/{total}',
  },
  en: {
    title: 'Bulk commands',
    target: 'Pick devices',
    family: 'Family',
    model: 'Model',
    district: 'District',
    ward: 'Ward',
    any: 'Any',
    rate: 'Rate (devices per second)',
    rateHelp: 'Sent gradually so the grid and the gateway are not flooded.',
    preview: 'Preview',
    previewing: 'Counting…',
    matched: '{eligible} devices will get the command',
    disabled: '{n} disabled devices are left out',
    skipped: '{n} devices cannot take this command',
    duration: 'Estimated roll-out time: {seconds} s',
    pickSomething: 'Pick at least one of family, model, district or ward.',
    start: 'Start',
    confirmTitle: 'Confirm the bulk command',
    confirmText: 'Send “{command}” {params} to {n} devices, {rate} devices a second?',
    confirmStart: 'Confirm and start',
    progress: 'Progress',
    done: 'Done: {final} of {total} devices have a final state',
    running: 'Running: {final} of {total} devices have a final state',
    counts: 'Devices by state',
    state: 'State',
    devices: 'Devices',
    problems: 'Devices that did not succeed',
    device: 'Device',
    error: 'Error',
    newBulk: 'New bulk command',
    viewerNotAllowed: 'Your role may look but not send commands.',
    submitted: 'Given the command: {n} of {total}',
  },
};
