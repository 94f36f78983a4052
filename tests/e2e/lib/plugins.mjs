// The stock plugins' plugins.load entries, with the configuration the
// plugin suites use (docs/plugins.md, docs/endpoints.md).

/** plugins.load for the market, system-settings and notifications plugins. */
export const stockPlugins = (overrides = {}) => [
  { path: 'herald_market.so', config: overrides.market ?? { max_symbols: 3 } },
  { path: 'herald_system_settings.so', config: overrides.settings ?? {
    defaults: [
      { key: 'ui.theme', category: 'ui', value: 'dark', description: 'colour scheme' },
      { key: 'ui.banner', category: 'ui', value: null },
      { key: 'limits.max_upload_mb', category: 'limits', value: 25 },
    ],
  } },
  { path: 'herald_notifications.so', config: overrides.notifications ?? { batch_window_ms: 150 } },
];
