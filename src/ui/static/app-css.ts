/** The settings UI's stylesheet, served at /app.css (src/ui/static-files.ts). Plain CSS: no `${` or backquote. */
export const APP_CSS = `/* Orderly's one stylesheet: readable, high contrast, visible focus, no framework. */
:root {
  --ink: #1b1f24;
  --muted: #545b64;
  --line: #c9ced6;
  --bg: #ffffff;
  --panel: #f4f6f8;
  --accent: #0b57d0;
  --accent-ink: #ffffff;
  --ok-bg: #e3f3e8;
  --ok-ink: #11572a;
  --bad-bg: #fbe6e6;
  --bad-ink: #8a1414;
  --warn-bg: #fdf0dc;
  --warn-ink: #6b3d00;
  --info-bg: #e8edf7;
  --info-ink: #263b6b;
  --focus: #c2410c;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink);
  background: var(--bg);
  line-height: 1.5;
}
* {
  box-sizing: border-box;
}
body {
  margin: 0;
}
label {
  font-weight: 600;
}
details summary {
  cursor: pointer;
  padding: 0.35rem 0.6rem;
}
.steps li,
.choices li {
  margin-bottom: 0.4rem;
}
a {
  color: var(--accent);
}
a:hover {
  text-decoration-thickness: 2px;
}
:focus-visible {
  outline: 3px solid var(--focus);
  outline-offset: 2px;
}
main:focus {
  outline: none;
}
.skip {
  position: absolute;
  left: -10000px;
  top: 0;
  background: var(--ink);
  color: #fff;
  padding: 0.5rem 1rem;
  z-index: 10;
}
.skip:focus {
  left: 0.5rem;
  top: 0.5rem;
  color: #fff;
}
.visually-hidden {
  position: absolute;
  width: 1px;
  height: 1px;
  overflow: hidden;
  clip: rect(0 0 0 0);
  white-space: nowrap;
}

header.top {
  display: flex;
  flex-wrap: wrap;
  gap: 1rem;
  align-items: center;
  justify-content: space-between;
  padding: 0.75rem 1.5rem;
  background: #10243e;
  color: #fff;
}
header.top a,
header.top .link {
  color: #fff;
}
.brand {
  font-weight: 700;
  font-size: 1.25rem;
  text-decoration: none;
}
.who {
  display: flex;
  flex-wrap: wrap;
  gap: 0.75rem;
  align-items: center;
}
.who label {
  color: #fff;
}
.role {
  color: #d5dde8;
}
nav[aria-label="Main"] {
  background: var(--panel);
  border-bottom: 1px solid var(--line);
  padding: 0 1.5rem;
}
nav[aria-label="Main"] ul {
  list-style: none;
  margin: 0;
  padding: 0;
  display: flex;
  flex-wrap: wrap;
  gap: 0.25rem 1.25rem;
}
nav[aria-label="Main"] a {
  display: inline-block;
  padding: 0.6rem 0;
  text-decoration: none;
  color: var(--ink);
  border-bottom: 3px solid transparent;
}
nav[aria-label="Main"] a[aria-current="page"] {
  border-bottom-color: var(--accent);
  font-weight: 600;
}
main {
  max-width: 72rem;
  margin: 0 auto;
  padding: 1rem 1.5rem 3rem;
}
footer {
  border-top: 1px solid var(--line);
  padding: 0.5rem 1.5rem;
  color: var(--muted);
  font-size: 0.9rem;
}
h1 {
  font-size: 1.6rem;
  margin: 0.5rem 0 1rem;
}
h2 {
  font-size: 1.25rem;
  margin-top: 2rem;
}
.narrow {
  max-width: 28rem;
  margin: 2rem auto;
}
.muted,
.help {
  color: var(--muted);
}
.help {
  font-size: 0.9rem;
  margin: 0.2rem 0 0;
}

form.inline,
.inline-form {
  display: inline-flex;
  gap: 0.5rem;
  align-items: center;
  margin: 0;
}
.field {
  margin: 0 0 1rem;
  display: flex;
  flex-direction: column;
  gap: 0.25rem;
  max-width: 40rem;
}
.field.check {
  flex-direction: row;
  flex-wrap: wrap;
  align-items: center;
  gap: 0.5rem;
}
.field.check .help {
  flex-basis: 100%;
}
input[type="text"],
input[type="email"],
input[type="password"],
input[type="number"],
input[type="search"],
input[type="date"],
select,
textarea {
  font: inherit;
  padding: 0.45rem 0.6rem;
  border: 1px solid #767f8a;
  border-radius: 4px;
  background: #fff;
  color: var(--ink);
  max-width: 100%;
}
textarea {
  font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
  font-size: 0.9rem;
  width: 100%;
}
input[type="checkbox"] {
  width: 1.1rem;
  height: 1.1rem;
}
fieldset {
  border: 1px solid var(--line);
  border-radius: 6px;
  padding: 1rem;
  margin: 0 0 1rem;
}
legend {
  font-weight: 700;
  padding: 0 0.25rem;
}
button,
.button {
  font: inherit;
  display: inline-block;
  padding: 0.5rem 1rem;
  border-radius: 4px;
  border: 1px solid var(--accent);
  background: var(--accent);
  color: var(--accent-ink);
  cursor: pointer;
  text-decoration: none;
}
button.secondary {
  background: #fff;
  color: var(--accent);
}
button.danger {
  background: #fff;
  color: var(--bad-ink);
  border-color: var(--bad-ink);
}
button.link {
  background: none;
  border: none;
  padding: 0;
  color: var(--accent);
  text-decoration: underline;
}
header.top button.link {
  color: #fff;
}
form.danger {
  margin-top: 1.5rem;
}
.buttons {
  display: flex;
  flex-wrap: wrap;
  gap: 0.75rem;
  margin-bottom: 1rem;
}
.filters {
  display: flex;
  flex-wrap: wrap;
  gap: 0 1rem;
  align-items: flex-end;
  background: var(--panel);
  padding: 1rem;
  border-radius: 6px;
  margin-bottom: 1rem;
}
.filters .field {
  margin-bottom: 0.5rem;
}
.filters .field.wide {
  flex-basis: 100%;
}
.filters button {
  margin-bottom: 0.5rem;
}
.copy .row {
  display: flex;
  gap: 0.5rem;
}
.copy input {
  flex: 1;
  font-family: ui-monospace, monospace;
}

table {
  border-collapse: collapse;
  width: 100%;
  margin: 0.5rem 0 1rem;
}
th,
td {
  text-align: left;
  padding: 0.45rem 0.6rem;
  border-bottom: 1px solid var(--line);
  vertical-align: top;
}
thead th {
  background: var(--panel);
}
caption {
  text-align: left;
  font-weight: 600;
  padding: 0.25rem 0;
}
.num {
  text-align: right;
  font-variant-numeric: tabular-nums;
}
tr.rounding td {
  font-style: italic;
}
td.actions {
  display: flex;
  flex-wrap: wrap;
  gap: 0.75rem;
}

.badge {
  display: inline-block;
  padding: 0.05rem 0.5rem;
  border-radius: 999px;
  font-size: 0.85rem;
  font-weight: 600;
  background: var(--info-bg);
  color: var(--info-ink);
}
.badge.s-completed,
.badge.s-sent {
  background: var(--ok-bg);
  color: var(--ok-ink);
}
.badge.s-failed {
  background: var(--bad-bg);
  color: var(--bad-ink);
}
.badge.s-retrying {
  background: var(--warn-bg);
  color: var(--warn-ink);
}
.reason {
  color: var(--bad-ink);
  font-size: 0.9rem;
}
.flash {
  padding: 0.75rem 1rem;
  border-radius: 6px;
  border: 1px solid;
}
.flash.ok {
  background: var(--ok-bg);
  color: var(--ok-ink);
}
.flash.error {
  background: var(--bad-bg);
  color: var(--bad-ink);
}
.flash.ok a,
.flash.error a {
  color: inherit;
}
.problem {
  border-left: 4px solid var(--bad-ink);
  padding-left: 1rem;
}
.checks {
  list-style: none;
  padding: 0;
}
.checks li {
  padding: 0.4rem 0.6rem;
  margin-bottom: 0.3rem;
  border-radius: 4px;
}
.checks li.ok {
  background: var(--ok-bg);
  color: var(--ok-ink);
}
.checks li.bad {
  background: var(--bad-bg);
  color: var(--bad-ink);
}
.checks li.info {
  background: var(--info-bg);
  color: var(--info-ink);
}
.cards {
  display: grid;
  grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr));
  gap: 1rem;
}
.card {
  background: var(--panel);
  border-radius: 6px;
  padding: 0.25rem 1rem 1rem;
  margin: 1rem 0;
}
.big {
  font-size: 2rem;
  font-weight: 700;
  margin: 0;
}
.legend {
  list-style: none;
  display: flex;
  flex-wrap: wrap;
  gap: 1rem;
  padding: 0;
  margin: 0.25rem 0;
}
.chart svg {
  max-width: 100%;
  height: auto;
  background: #fff;
}
dl.summary {
  display: grid;
  grid-template-columns: max-content 1fr;
  gap: 0.25rem 1rem;
}
dl.summary dt {
  font-weight: 600;
}
dl.summary dd {
  margin: 0;
}
ol.timeline {
  list-style: none;
  padding-left: 1rem;
  border-left: 3px solid var(--line);
}
ol.timeline > li {
  margin-bottom: 1.5rem;
  padding-left: 0.5rem;
}
ol.timeline h3 {
  margin: 0 0 0.25rem;
  font-size: 1.05rem;
}
details.json {
  margin: 0.35rem 0;
  border: 1px solid var(--line);
  border-radius: 4px;
  background: #fff;
}
pre {
  margin: 0;
  padding: 0.75rem;
  overflow: auto;
  max-height: 32rem;
  background: #f7f8fa;
  font-size: 0.85rem;
}
pre.mail {
  white-space: pre-wrap;
  border: 1px solid var(--line);
  border-radius: 4px;
}
table.diff ins {
  background: var(--ok-bg);
  color: var(--ok-ink);
  text-decoration: none;
}
table.diff del {
  background: var(--bad-bg);
  color: var(--bad-ink);
}
table.diff tr.changed th {
  border-left: 4px solid var(--warn-ink);
}
table.diff tr.added th {
  border-left: 4px solid var(--ok-ink);
}
table.diff tr.removed th {
  border-left: 4px solid var(--bad-ink);
}
.pager {
  display: flex;
  gap: 1.5rem;
}
.warnings {
  color: var(--warn-ink);
}
`;
