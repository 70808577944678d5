/** A query of a Grafana panel. */
export interface PanelQuery {
  panel: string;
  expr: string;
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

/** Every `targets[].expr` of the dashboard's panels, rows' nested panels included. */
export function panelQueries(dashboard: { panels?: Panel[] }): PanelQuery[] {
  const queries: PanelQuery[] = [];
  const visit = (panels: Panel[] = []) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr) {
          queries.push({ panel: panel.title ?? '', expr: target.expr });
        }
      }
      visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  return queries;
}

/**
 * Replaces Grafana's template variables by what Grafana would send: interval variables by a
 * duration, the dashboard's "All" variables (`$job`, `${instance}`) by the match-all regex.
 */
export function substituteVariables(expr: string, duration = '1m'): string {
  return expr
    .replace(/\$__(?:rate_interval|interval|range)\b/g, duration)
    .replace(/\$\{(\w+)\}|\$(\w+)/g, '.*');
}
