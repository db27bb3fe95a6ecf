/**
 * What other pages reuse from the run page: the chart option builders and the final table
 * (with the pure helpers that feed them, in lib/run-*.ts).
 */
export {
  accuracyDiversityOption,
  curvesOverlayOption,
  memberCurvesOption,
  pairwiseHeatmapOption,
  strategyAccuracyOption,
  type CurveSeries,
  type HeatmapMeasure,
} from './chart-options';
export { FinalTable } from './final-table';
export {
  bestValues,
  finalTableOf,
  FINAL_METRICS,
  LOWER_IS_BETTER,
  type FinalTable as FinalTableData,
} from '../../lib/run-final-table';
export { roundSummaries, accuracyDiversityPoints, type RoundSummary } from '../../lib/run-rounds';
export { curvesFromPoints, type MemberCurve } from '../../lib/run-curves';
export { downsample } from '../../lib/run-downsample';
