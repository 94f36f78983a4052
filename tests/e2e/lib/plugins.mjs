// The stock plugins' plugins.load entries, with the configuration the
// plugin suites use (docs/plugins.md, docs/endpoints.md).

/**
 * plugins.load for every stock plugin: market, system-settings,
 * notifications, chat, contest, analytics and skyduel, with short periods
 * and small limits so the suites see them act quickly.
 */
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
  { path: 'herald_chat.so', config: overrides.chat ?? { rate_messages: 5, rate_window_ms: 60000 } },
  { path: 'herald_contest.so', config: overrides.contest ?? {
    chat_rate_messages: 3, chat_rate_window_ms: 60000, presence_refresh_ms: 500,
  } },
  { path: 'herald_analytics.so', config: overrides.analytics ?? {
    dashboard_interval_ms: 300, metric_interval_ms: 300, active_window_ms: 5000,
  } },
  { path: 'herald_skyduel.so', config: overrides.skyduel ?? { command_timeout_ms: 1000 } },
];
