export function AlarmsView() {
  return <section>alarms</section>;
}
