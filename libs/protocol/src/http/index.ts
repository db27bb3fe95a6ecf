export * from './client';
export * from './routes';
export * from './views';
export * from './prometheus-text';
export * from './worker-health';
export * from './dashboard-routes';
