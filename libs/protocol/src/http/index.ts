export * from './client';
export * from './routes';
export * from './views';
