import { useEffect, useRef, useState } from 'preact/hooks';
import { alarms as strings } from './i18n/alarms.ts';
import { useT } from './i18n/index.ts';
import { live } from './live.ts';
import { useValue } from './state.ts';

const SOUND_KEY = 'citygate.sound';

/**
 * A new critical alarm, on whatever view is open: a banner that stays until dismissed (role
 * "alert", so screen readers announce it) and, when the operator turned it on, a short tone.
 */
export function CriticalCue() {
  const t = useT(strings);
  useValue(live.version);
  const [sound, setSound] = useState(localStorage.getItem(SOUND_KEY) === 'on');
  const [dismissed, setDismissed] = useState<string | null>(null);
  const heard = useRef<string | null>(null);
  const alarm = live.lastCritical;
  useEffect(() => {
    if (!alarm || heard.current === alarm.id) return;
    heard.current = alarm.id;
    if (sound) beep();
  }, [alarm?.id]);
  const toggle = () => {
    localStorage.setItem(SOUND_KEY, sound ? 'off' : 'on');
    setSound(!sound);
  };
  return (
    <>
      <label class="sound">
        <input type="checkbox" checked={sound} onChange={toggle} /> <span aria-hidden="true">♪</span>{' '}
        {t('sound')}
      </label>
      {alarm && dismissed !== alarm.id && (
        <div class="critical-cue" role="alert" data-testid="critical-cue" data-alarm={alarm.id}>
          <span aria-hidden="true">‼</span> <strong>{t('newCritical')}:</strong> {alarm.deviceId} ·{' '}
          {alarm.district} · {alarm.message} <a href="#/alarms?severity=critical">{t('view')}</a>{' '}
          <button type="button" onClick={() => setDismissed(alarm.id)}>
            {t('dismiss')}
          </button>
        </div>
      )}
    </>
  );
}

let audio: AudioContext | null = null;

function beep(): void {
  try {
    audio ??= new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.6);
  } catch {
    // No audio device: the banner is the cue.
  }
}
