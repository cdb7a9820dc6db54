// Types of the ES module entry (index.mjs): the same API as index.d.ts,
// as named exports, plus the whole module as the default export.
import * as cos from './index.js';

export * from './index.js';
export default cos;
