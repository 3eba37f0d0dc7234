import type { Calendar, Program } from '../../gateway/lighting/program.ts';

/**
 * Hanoi's default street-lighting programs and calendar, loaded into the registry on the first
 * start (then edited through /api/lighting). Data, validated by gateway/lighting/program.ts.
 * Levels are percent of rated power; times are Asia/Ho_Chi_Minh. Holiday dates: the official
 * 2026 and 2027 days off (Tết Nguyên Đán by the lunar calendar; Hùng Kings' day 10/3 lunar).
 */
export const hanoiPrograms: Program[] = [
  {
    id: 'hanoi-standard',
    name: 'Urban streets, weekdays',
    description: 'On after sunset, dimmed in two stages when traffic falls, off before sunrise',
    steps: [
      { event: 'sunset', offsetMinutes: 5, level: 100 },
      { at: '22:30', level: 60 },
      { at: '00:30', level: 30 },
      { event: 'sunrise', offsetMinutes: -10, level: 0 },
    ],
  },
  {
    id: 'hanoi-weekend',
    name: 'Urban streets, weekend nights',
    description: 'Friday-to-Sunday crowds: full light an hour longer',
    steps: [
      { event: 'sunset', offsetMinutes: 5, level: 100 },
      { at: '23:30', level: 60 },
      { at: '01:00', level: 30 },
      { event: 'sunrise', offsetMinutes: -10, level: 0 },
    ],
  },
  {
    id: 'hanoi-holiday',
    name: 'Public holidays',
    steps: [
      { event: 'sunset', offsetMinutes: 0, level: 100 },
      { at: '00:00', level: 70 },
      { at: '02:00', level: 40 },
      { event: 'sunrise', offsetMinutes: -10, level: 0 },
    ],
  },
  {
    id: 'hanoi-festival',
    name: 'Festival night around Hoàn Kiếm lake',
    description: 'Fireworks and the walking street: full light from dusk until the crowds go home',
    steps: [
      { event: 'sunset', offsetMinutes: -10, level: 100 },
      { at: '02:00', level: 70 },
      { event: 'sunrise', offsetMinutes: -5, level: 0 },
    ],
  },
  {
    id: 'hanoi-suburban',
    name: 'Suburban and rural roads',
    description: 'On at civil dusk, low from 22:00, off at civil dawn',
    steps: [
      { event: 'civil_dusk', offsetMinutes: -15, level: 80 },
      { at: '22:00', level: 50 },
      { at: '23:30', level: 25 },
      { event: 'civil_dawn', offsetMinutes: 10, level: 0 },
    ],
  },
];

export const hanoiCalendar: Calendar = {
  timeZone: 'Asia/Ho_Chi_Minh',
  holidays: [
    { name: 'Tết Dương lịch 2026', from: '2025-12-31', to: '2026-01-01' },
    { name: 'Tết Nguyên Đán 2026', from: '2026-02-14', to: '2026-02-22' },
    { name: 'Giỗ Tổ Hùng Vương 2026', from: '2026-04-26' },
    { name: 'Giải phóng miền Nam và Quốc tế Lao động 2026', from: '2026-04-30', to: '2026-05-01' },
    { name: 'Quốc khánh 2026', from: '2026-09-01', to: '2026-09-02' },
    { name: 'Tết Dương lịch 2027', from: '2026-12-31', to: '2027-01-01' },
    { name: 'Tết Nguyên Đán 2027', from: '2027-02-04', to: '2027-02-11' },
  ],
  assignments: [
    {
      id: 'hoan-kiem',
      group: { district: 'Hoàn Kiếm' },
      programs: { weekday: 'hanoi-standard', weekend: 'hanoi-weekend', holiday: 'hanoi-holiday' },
    },
    { id: 'rural', group: { tag: 'rural' }, programs: { weekday: 'hanoi-suburban' } },
    {
      id: 'city',
      group: {},
      programs: { weekday: 'hanoi-standard', weekend: 'hanoi-weekend', holiday: 'hanoi-holiday' },
    },
  ],
  exceptions: [
    {
      name: 'Giao thừa (New Year’s Eve) on Hoàn Kiếm lake',
      from: '2026-12-31',
      group: { district: 'Hoàn Kiếm' },
      program: 'hanoi-festival',
    },
    {
      name: 'Giao thừa Tết Nguyên Đán 2027 on Hoàn Kiếm lake',
      from: '2027-02-05',
      group: { district: 'Hoàn Kiếm' },
      program: 'hanoi-festival',
    },
    {
      name: 'Quốc khánh fireworks on Hoàn Kiếm lake',
      from: '2026-09-02',
      group: { district: 'Hoàn Kiếm', ward: 'Hàng Trống' },
      program: 'hanoi-festival',
    },
  ],
};
