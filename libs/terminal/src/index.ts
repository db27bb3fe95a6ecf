export { colorEnabled, painter, type ColorEnv, type Style } from './color';
export {
  createLogger,
  formatLogLine,
  LOG_FORMATS,
  LOG_LEVELS,
  resolveLogFormat,
  type LoggerOptions,
  type LogFormat,
  type LogLevel,
} from './log';
