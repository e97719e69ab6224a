// Applies a saved light/dark choice before the first paint (the module scripts run too late and
// the page would flash). Without a saved choice the stylesheet follows the system.
'use strict';
try {
  const theme = localStorage.getItem('llmstreamer.theme');
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
} catch { /* storage disabled: follow the system */ }
