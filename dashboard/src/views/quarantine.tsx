export function QuarantineView() {
  return <section>quarantine</section>;
}
