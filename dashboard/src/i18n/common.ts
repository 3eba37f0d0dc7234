import type { Strings } from './index.ts';

export const common: Strings<
  | 'title'
  | 'overview'
  | 'alarms'
  | 'quarantine'
  | 'devices'
  | 'bulk'
  | 'lighting'
  | 'signOut'
  | 'language'
  | 'signIn'
  | 'token'
  | 'tokenHelp'
  | 'signInFailed'
  | 'live'
  | 'connecting'
  | 'offline'
  | 'district'
  | 'allDistricts'
  | 'clearFilter'
  | 'loading'
  | 'error'
  | 'notFound'
  | 'role_viewer'
  | 'role_operator'
  | 'role_admin'
  | 'status_online'
  | 'status_offline'
  | 'status_disabled'
  | 'severity_critical'
  | 'severity_major'
  | 'severity_minor'
  | 'severity_warning'
  | 'family_streetlight'
  | 'family_electricity_meter'
  | 'family_water_station'
  | 'family_air_quality'
  | 'skipToContent'
> = {
  vi: {
    title: 'Trung tâm điều hành citygate',
    overview: 'Tổng quan',
    alarms: 'Cảnh báo',
    quarantine: 'Cách ly',
    devices: 'Thiết bị',
    bulk: 'Lệnh hàng loạt',
    lighting: 'Chiếu sáng',
    signOut: 'Đăng xuất',
    language: 'Ngôn ngữ',
    signIn: 'Đăng nhập',
    token: 'Mã truy cập (token)',
    tokenHelp: 'Dán mã truy cập do quản trị viên cấp. Mã chỉ được giữ trong thẻ trình duyệt này.',
    signInFailed: 'Đăng nhập không thành công: {message}',
    live: 'Trực tiếp',
    connecting: 'Đang kết nối…',
    offline: 'Mất kết nối, đang thử lại',
    district: 'Quận/huyện',
    allDistricts: 'Toàn thành phố',
    clearFilter: 'Bỏ lọc',
    loading: 'Đang tải…',
    error: 'Lỗi: {message}',
    notFound: 'Không tìm thấy trang này.',
    role_viewer: 'Người xem',
    role_operator: 'Vận hành viên',
    role_admin: 'Quản trị viên',
    status_online: 'Trực tuyến',
    status_offline: 'Ngoại tuyến',
    status_disabled: 'Đã tắt',
    severity_critical: 'Nghiêm trọng',
    severity_major: 'Cao',
    severity_minor: 'Thấp',
    severity_warning: 'Lưu ý',
    family_streetlight: 'Đèn đường',
    family_electricity_meter: 'Công tơ điện',
    family_water_station: 'Trạm nước',
    family_air_quality: 'Quan trắc không khí',
    skipToContent: 'Chuyển đến nội dung chính',
  },
  en: {
    title: 'citygate operations centre',
    overview: 'Overview',
    alarms: 'Alarms',
    quarantine: 'Quarantine',
    devices: 'Devices',
    bulk: 'Bulk commands',
    lighting: 'Street lighting',
    signOut: 'Sign out',
    language: 'Language',
    signIn: 'Sign in',
    token: 'Access token',
    tokenHelp: 'Paste the access token your administrator gave you. It is kept in this browser tab only.',
    signInFailed: 'Sign-in failed: {message}',
    live: 'Live',
    connecting: 'Connecting…',
    offline: 'Disconnected, retrying',
    district: 'District',
    allDistricts: 'Whole city',
    clearFilter: 'Clear filter',
    loading: 'Loading…',
    error: 'Error: {message}',
    notFound: 'No such page.',
    role_viewer: 'Viewer',
    role_operator: 'Operator',
    role_admin: 'Administrator',
    status_online: 'Online',
    status_offline: 'Offline',
    status_disabled: 'Disabled',
    severity_critical: 'Critical',
    severity_major: 'Major',
    severity_minor: 'Minor',
    severity_warning: 'Warning',
    family_streetlight: 'Street lights',
    family_electricity_meter: 'Electricity meters',
    family_water_station: 'Water stations',
    family_air_quality: 'Air quality',
    skipToContent: 'Skip to main content',
  },
};
