#!/usr/bin/env node
// Entry for `npx citygate`: loads the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./citygate.ts');
