/** Transfers per day by status as an inline SVG stacked bar chart, with the same numbers as a table. */
import type { DayBar } from "../../worker/routes/ui/data/dashboard-data";

const SERIES = [
  { status: "completed", label: "Completed", color: "#1b7f3b" },
  { status: "failed", label: "Failed", color: "#b3261e" },
  { status: "retrying", label: "Retrying", color: "#a15c00" },
  { status: "pending", label: "Pending or running", color: "#4a5a8a" },
] as const;

function seriesValue(bar: DayBar, status: (typeof SERIES)[number]["status"]): number {
  if (status === "pending") return (bar.counts.pending ?? 0) + (bar.counts.running ?? 0);
  return bar.counts[status] ?? 0;
}

export function BarChart(props: { days: DayBar[] }) {
  const width = 640;
  const height = 200;
  const pad = { left: 36, bottom: 28, top: 10 };
  const max = Math.max(1, ...props.days.map((d) => SERIES.reduce((s, x) => s + seriesValue(d, x.status), 0)));
  const slot = (width - pad.left) / props.days.length;
  const barWidth = Math.max(4, slot * 0.7);
  const scale = (height - pad.top - pad.bottom) / max;
  const total = props.days.reduce((s, d) => s + SERIES.reduce((t, x) => t + seriesValue(d, x.status), 0), 0);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby="chart-title chart-desc" width="100%">
        <title id="chart-title">Transfers per day by status</title>
        <desc id="chart-desc">
          {`${total} transfers in the last ${props.days.length} days; the table below has each day's numbers.`}
        </desc>
        <line x1={pad.left} y1={height - pad.bottom} x2={width} y2={height - pad.bottom} stroke="#555" />
        <text x={pad.left - 6} y={pad.top + 8} text-anchor="end" font-size="11" fill="#333">
          {max}
        </text>
        <text x={pad.left - 6} y={height - pad.bottom} text-anchor="end" font-size="11" fill="#333">
          0
        </text>
        {props.days.map((d, i) => {
          let y = height - pad.bottom;
          const x = pad.left + i * slot + (slot - barWidth) / 2;
          return (
            <g>
              {SERIES.map((s) => {
                const h = seriesValue(d, s.status) * scale;
                y -= h;
                return h > 0 ? (
                  <rect x={x} y={y} width={barWidth} height={h} fill={s.color}>
                    <title>{`${d.day}: ${seriesValue(d, s.status)} ${s.label.toLowerCase()}`}</title>
                  </rect>
                ) : null;
              })}
              {i % 2 === 0 ? (
                <text x={x + barWidth / 2} y={height - 10} text-anchor="middle" font-size="10" fill="#333">
                  {d.day.slice(5)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <ul class="legend">
          {SERIES.map((s) => (
            <li>
              <svg width="12" height="12" aria-hidden="true">
                <rect width="12" height="12" fill={s.color} />
              </svg>{" "}
              {s.label}
            </li>
          ))}
        </ul>
      </figcaption>
      <details>
        <summary>Show the numbers as a table</summary>
        <table>
          <caption class="visually-hidden">Transfers per day by status</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              {SERIES.map((s) => (
                <th scope="col">{s.label}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.days.map((d) => (
              <tr>
                <th scope="row">{d.day}</th>
                {SERIES.map((s) => (
                  <td>{seriesValue(d, s.status)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
