/**
 * Viz: pure figure builders (Plotly JSON), chart specs, notebook MIME bundles
 * and offline HTML reports. Builders take plain columns, row objects or
 * Arquero tables; loaders read the store through Mine.
 */
export * from './numbers.js';
export * from './fit.js';
export * from './run-charts.js';
export * from './comparison-table.js';
export * from './columns.js';
export * from './axis-titles.js';
export * from './figure.js';
export * from './scatter.js';
export * from './distribution.js';
export * from './timeseries.js';
export * from './heatmap.js';
export * from './facet.js';
export * from './spec.js';
export * from './chart.js';
export * from './html.js';
export * from './mime.js';
export * from './report.js';
export * from './standard-charts.js';
export * from './moves.js';
export { loadChartData, figureFromSpecText, type ChartData as LoadedChartData } from './chart-data.js';
export { resolveBatch, parsedColumns, runWindows, withParamColumns, policyNames, dynamicMoves, type BatchRow } from './data.js';
export { loadReportModel, affinityOf, type RunSummaryLoader, type ReportOptions } from './report-data.js';
export { runSummaryColumns } from './run-summary.js';
export { runWizard, type WizardOptions, type WizardResult } from './wizard.js';
export { plotlyVersion, plotlyLoaderScript } from './plotly-source.js';
