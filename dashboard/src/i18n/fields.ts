import type { Strings } from './index.ts';

/** Names of the canonical fields (firmware-specs/families.ts) and reported settings. */
export const fieldStrings: Strings<
  | 'energy_kwh'
  | 'power_w'
  | 'voltage_v'
  | 'current_a'
  | 'power_factor'
  | 'frequency_hz'
  | 'relay_closed'
  | 'lamp_on'
  | 'dim_percent'
  | 'lamp_power_w'
  | 'ambient_lux'
  | 'burn_hours'
  | 'fault_code'
  | 'flow_m3h'
  | 'pressure_bar'
  | 'total_volume_m3'
  | 'turbidity_ntu'
  | 'chlorine_mgl'
  | 'ph'
  | 'valve_percent'
  | 'pm25_ugm3'
  | 'pm10_ugm3'
  | 'no2_ugm3'
  | 'o3_ugm3'
  | 'co_mgm3'
  | 'so2_ugm3'
  | 'temperature_c'
  | 'humidity_pct'
  | 'report_interval_seconds'
> = {
  vi: {
    energy_kwh: 'Điện năng tích luỹ',
    power_w: 'Công suất',
    voltage_v: 'Điện áp',
    current_a: 'Dòng điện',
    power_factor: 'Hệ số công suất',
    frequency_hz: 'Tần số',
    relay_closed: 'Rơ-le đóng',
    lamp_on: 'Đèn bật',
    dim_percent: 'Độ sáng',
    lamp_power_w: 'Công suất đèn',
    ambient_lux: 'Độ rọi môi trường',
    burn_hours: 'Số giờ đã sáng',
    fault_code: 'Mã lỗi',
    flow_m3h: 'Lưu lượng',
    pressure_bar: 'Áp suất',
    total_volume_m3: 'Tổng thể tích',
    turbidity_ntu: 'Độ đục',
    chlorine_mgl: 'Clo dư',
    ph: 'Độ pH',
    valve_percent: 'Độ mở van',
    pm25_ugm3: 'Bụi PM2.5',
    pm10_ugm3: 'Bụi PM10',
    no2_ugm3: 'NO₂',
    o3_ugm3: 'O₃',
    co_mgm3: 'CO',
    so2_ugm3: 'SO₂',
    temperature_c: 'Nhiệt độ',
    humidity_pct: 'Độ ẩm',
    report_interval_seconds: 'Chu kỳ gửi số liệu',
  },
  en: {
    energy_kwh: 'Energy',
    power_w: 'Power',
    voltage_v: 'Voltage',
    current_a: 'Current',
    power_factor: 'Power factor',
    frequency_hz: 'Frequency',
    relay_closed: 'Relay closed',
    lamp_on: 'Lamp on',
    dim_percent: 'Dimming',
    lamp_power_w: 'Lamp power',
    ambient_lux: 'Ambient light',
    burn_hours: 'Burn hours',
    fault_code: 'Fault code',
    flow_m3h: 'Flow',
    pressure_bar: 'Pressure',
    total_volume_m3: 'Total volume',
    turbidity_ntu: 'Turbidity',
    chlorine_mgl: 'Residual chlorine',
    ph: 'pH',
    valve_percent: 'Valve opening',
    pm25_ugm3: 'PM2.5',
    pm10_ugm3: 'PM10',
    no2_ugm3: 'NO₂',
    o3_ugm3: 'O₃',
    co_mgm3: 'CO',
    so2_ugm3: 'SO₂',
    temperature_c: 'Temperature',
    humidity_pct: 'Humidity',
    report_interval_seconds: 'Report interval',
  },
};
