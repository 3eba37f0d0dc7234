export function OverviewView() {
  return <section>overview</section>;
}
