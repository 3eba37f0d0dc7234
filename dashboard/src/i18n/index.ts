import { useValue, value } from '../state.ts';

/**
 * Two languages: Vietnamese by default, English on request; the choice is kept in localStorage.
 * Every view has its own strings file (`i18n/<view>.ts`) with the same keys in both languages.
 */
export const LANGS = ['vi', 'en'] as const;
export type Lang = (typeof LANGS)[number];
const KEY = 'citygate.lang';

export type Strings<K extends string> = Record<Lang, Record<K, string>>;

const saved = localStorage.getItem(KEY);
export const lang = value<Lang>(saved === 'en' ? 'en' : 'vi');
lang.subscribe(() => {
  localStorage.setItem(KEY, lang.get());
  document.documentElement.lang = lang.get();
});
document.documentElement.lang = lang.get();

/** The strings of one view in the current language; `{name}` placeholders filled from `args`. */
export function useT<K extends string>(strings: Strings<K>) {
  const l = useValue(lang);
  return (key: K, args?: Record<string, string | number>): string => {
    const s = strings[l][key] ?? strings.vi[key] ?? key;
    return args ? s.replace(/\{(\w+)\}/g, (_, k) => String(args[k] ?? '')) : s;
  };
}

/** Numbers and times in the current language's format. */
export function formatNumber(n: number, digits = 0): string {
  return n.toLocaleString(lang.get() === 'vi' ? 'vi-VN' : 'en-GB', { maximumFractionDigits: digits });
}

export function formatTime(iso: string | number): string {
  return new Date(iso).toLocaleString(lang.get() === 'vi' ? 'vi-VN' : 'en-GB');
}
