/** Analytics shared by the dashboard, the evaluation report and the offline evaluation (pure). */
export * from './ab.ts';
export * from './cost.ts';
export * from './counterfactual.ts';
export * from './intervals.ts';
export * from './sequential.ts';
