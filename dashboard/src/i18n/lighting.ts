import type { Strings } from './index.ts';

export const lighting: Strings<
  | 'heading'
  | 'help'
  | 'scheduler'
  | 'scheduler_on'
  | 'scheduler_off'
  | 'schedulerOffHelp'
  | 'at'
  | 'groups'
  | 'group'
  | 'program'
  | 'dayType'
  | 'exception'
  | 'lamps'
  | 'nextSteps'
  | 'noNextSteps'
  | 'sunset'
  | 'sunrise'
  | 'show'
  | 'shown'
  | 'chartHeading'
  | 'chartSummary'
  | 'level'
  | 'step'
  | 'latest'
  | 'outOfStep'
  | 'outOfStepHelp'
  | 'outOfStepTotal'
  | 'allInStep'
  | 'device'
  | 'district'
  | 'expected'
  | 'because'
  | 'desired'
  | 'reported'
  | 'reportedAt'
  | 'state'
  | 'state_in_step'
  | 'state_offline'
  | 'state_pending'
  | 'state_out_of_step'
  | 'failed'
  | 'overrides'
  | 'noOverrides'
  | 'overrideStart'
  | 'overrideFor'
  | 'overrideMinutes'
  | 'overrideUntilNext'
  | 'overrideReason'
  | 'overrideLevel'
  | 'overrideEnd'
  | 'overrideUntil'
  | 'overrideBy'
  | 'overrideEnded'
  | 'overrideActive'
  | 'overrideStarted'
  | 'overrideGroup'
  | 'none'
> = {
  vi: {
    heading: 'Chiếu sáng đô thị',
    help: 'Chương trình chiếu sáng của từng nhóm đèn trong đêm nay, các bước sắp tới theo giờ Hà Nội (Asia/Ho_Chi_Minh), và các đèn chưa ở đúng mức.',
    scheduler: 'Bộ lập lịch',
    scheduler_on: 'Đang chạy',
    scheduler_off: 'Đang tắt',
    schedulerOffHelp:
      'Bộ lập lịch đang tắt: chương trình chỉ được tính toán, không có lệnh nào được gửi tới đèn.',
    at: 'Lúc {time}',
    groups: 'Nhóm đèn',
    group: 'Nhóm',
    program: 'Chương trình',
    dayType: 'Loại ngày',
    exception: 'Ngoại lệ',
    lamps: 'Số đèn',
    nextSteps: 'Các bước sắp tới',
    noNextSteps: 'Không có bước nào sắp tới.',
    sunset: 'Hoàng hôn',
    sunrise: 'Bình minh',
    show: 'Xem biểu đồ',
    shown: 'Đang xem',
    chartHeading: 'Mức sáng của nhóm {group} trong đêm {night} (chương trình {program})',
    chartSummary: 'Biểu đồ mức sáng theo giờ: {steps}. Hoàng hôn {sunset}, bình minh {sunrise}.',
    level: 'Mức sáng',
    step: 'Bước',
    latest: 'muộn nhất {time}',
    outOfStep: 'Đèn chưa đúng mức',
    outOfStepHelp: 'Mức đèn lẽ ra phải có lúc này so với mức đèn báo về.',
    outOfStepTotal: '{count} đèn chưa đúng mức',
    allInStep: 'Mọi đèn đều đã đúng mức.',
    device: 'Thiết bị',
    district: 'Quận/huyện',
    expected: 'Mức cần có',
    because: 'Theo',
    desired: 'Mức đã yêu cầu',
    reported: 'Mức báo về',
    reportedAt: 'Báo lúc',
    state: 'Trạng thái',
    state_in_step: 'Đúng mức',
    state_offline: 'Mất kết nối',
    state_pending: 'Đang chờ đèn nhận lệnh',
    state_out_of_step: 'Sai mức',
    failed: 'Không tính được lịch cho {count} đèn (ví dụ {id}: {reason}).',
    overrides: 'Điều khiển thủ công',
    noOverrides: 'Không có lệnh điều khiển thủ công nào.',
    overrideStart: 'Bắt đầu điều khiển thủ công',
    overrideFor: 'Cho nhóm',
    overrideMinutes: 'Giữ trong (phút)',
    overrideUntilNext: 'Để trống: giữ đến bước tiếp theo của chương trình.',
    overrideReason: 'Lý do',
    overrideLevel: 'Mức sáng (%)',
    overrideEnd: 'Kết thúc',
    overrideUntil: 'Đến',
    overrideBy: 'Người tạo',
    overrideEnded: 'Đã kết thúc lúc {time} ({by})',
    overrideActive: 'Đang áp dụng',
    overrideStarted: 'Đã bắt đầu điều khiển thủ công cho {lamps} đèn.',
    overrideGroup: 'Nhóm đèn',
    none: '—',
  },
  en: {
    heading: 'Street lighting',
    help: "Each lamp group's program tonight, its next steps in Hanoi time (Asia/Ho_Chi_Minh), and the lamps not at the level they should be.",
    scheduler: 'Scheduler',
    scheduler_on: 'Running',
    scheduler_off: 'Off',
    schedulerOffHelp: 'The scheduler is off: programs are computed, but no command is sent to the lamps.',
    at: 'At {time}',
    groups: 'Lamp groups',
    group: 'Group',
    program: 'Program',
    dayType: 'Day type',
    exception: 'Exception',
    lamps: 'Lamps',
    nextSteps: 'Next steps',
    noNextSteps: 'No step ahead.',
    sunset: 'Sunset',
    sunrise: 'Sunrise',
    show: 'Show the chart',
    shown: 'Shown',
    chartHeading: 'Level of group {group} on the night of {night} (program {program})',
    chartSummary: 'Level against time: {steps}. Sunset {sunset}, sunrise {sunrise}.',
    level: 'Level',
    step: 'Step',
    latest: 'latest {time}',
    outOfStep: 'Lamps out of step',
    outOfStepHelp: 'The level each lamp should be at now against the level it reports.',
    outOfStepTotal: '{count} lamps out of step',
    allInStep: 'Every lamp is at its level.',
    device: 'Device',
    district: 'District',
    expected: 'Should be',
    because: 'Because of',
    desired: 'Asked for',
    reported: 'Reports',
    reportedAt: 'Reported',
    state: 'State',
    state_in_step: 'In step',
    state_offline: 'Offline',
    state_pending: 'Waiting for the lamp',
    state_out_of_step: 'Out of step',
    failed: 'No plan could be computed for {count} lamps (e.g. {id}: {reason}).',
    overrides: 'Manual overrides',
    noOverrides: 'No manual override.',
    overrideStart: 'Start a manual override',
    overrideFor: 'For group',
    overrideMinutes: 'Hold for (minutes)',
    overrideUntilNext: "Empty: holds until the program's next step.",
    overrideReason: 'Reason',
    overrideLevel: 'Level (%)',
    overrideEnd: 'End',
    overrideUntil: 'Until',
    overrideBy: 'By',
    overrideEnded: 'Ended at {time} ({by})',
    overrideActive: 'In force',
    overrideStarted: 'Manual override started for {lamps} lamps.',
    overrideGroup: 'Lamp group',
    none: '—',
  },
};
