import { value } from './state.ts';

/** The district chosen in the overview's list: every view shows only it while set. */
export const districtFilter = value<string | null>(null);
