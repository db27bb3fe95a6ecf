// @chorus/dashboard — the Next.js app lives in src/app; this entry is its node-side launcher.
export {
  startDashboard,
  ensureDashboardBuild,
  dashboardSourceHash,
  DashboardError,
  DASHBOARD_DIR,
  type DashboardOptions,
  type RunningDashboard,
} from './launcher';
