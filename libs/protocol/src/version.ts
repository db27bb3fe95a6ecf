/**
 * The Chorus version this code is: the root package.json's `version` (version.test.ts keeps the
 * two equal, so a release that bumps one must bump the other). A worker sends it in its handshake
 * and the coordinator refuses another (apps/coordinator README, `/workers`). A constant rather
 * than a JSON import, so every bundler (the dashboard's included) reads it alike.
 */
export const CHORUS_VERSION = '0.1.0';
