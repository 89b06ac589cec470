/** Viz: pure figure builders (Plotly JSON), chart specs, notebook MIME bundles and HTML reports. */
export * from './stats.js';
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
export { plotlyVersion } from './plotly-source.js';
