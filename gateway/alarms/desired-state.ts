/**
 * The desired state the alarm rules compare readings with (`source: 'desired'` comparisons).
 *
 * The command service keeps desired state for state commands only (CommandService.desiredView).
 * setRelay is an action: opening a relay disconnects a customer, so it is a guarded one-off act
 * that the reconciler must not repeat after a reconnect. For the "relay open that nobody
 * commanded" rule, the relay's desired position is therefore the one the latest setRelay asked
 * for, unless that command failed. The engine asks only when a reading already shows the relay
 * open, so the command lookup is not on the hot path.
 */
export interface RelayCommand {
  name: string;
  status: string;
  params: Record<string, unknown>;
  createdAt: number;
}

const FAILED = new Set(['failed', 'timed_out', 'expired', 'cancelled']);

export function alarmDesiredState(sources: {
  /** CommandService.desiredView */
  desiredView(deviceId: string): Record<string, unknown> | null;
  /** The device's recent commands, any order (CommandStore.forDevice(id, { limit })). */
  recentCommands(deviceId: string): readonly RelayCommand[];
}): (deviceId: string) => Record<string, unknown> | null {
  return (deviceId) => {
    const view = sources.desiredView(deviceId);
    let last: RelayCommand | undefined;
    for (const c of sources.recentCommands(deviceId)) {
      if (c.name !== 'setRelay' || FAILED.has(c.status)) continue;
      if (!last || c.createdAt > last.createdAt) last = c;
    }
    if (!last || typeof last.params.closed !== 'boolean') return view;
    return { ...view, relay_closed: last.params.closed };
  };
}
