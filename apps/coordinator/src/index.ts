// @chorus/coordinator — HTTP + socket.io service: runs, leases, sharding, voting, persistence.
export {
  startCoordinator,
  DEFAULT_LEASE_MS,
  EMBEDDED_DATABASE_FILE,
  type CoordinatorOptions,
  type RunningCoordinator,
} from './coordinator';
export { main, type CoordinatorFlags, type MainOptions } from './main';
export { parseEnv, EnvError, MIN_TOKEN_LENGTH, type CoordinatorEnv } from './env';
export { TOKENS_FILE, bearerToken, tokenMatches } from './tokens';
export { MAX_ATTEMPTS } from './services/scheduler.service';
export { createPredictPool, type PredictPool } from './services/predict-pool';
export { deriveRunData, type RunDerivation } from './services/plan.service';
