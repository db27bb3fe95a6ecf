/// <reference types="next" />
// Next writes next-env.d.ts on build (ignored by git); this keeps typecheck working on a fresh clone.
