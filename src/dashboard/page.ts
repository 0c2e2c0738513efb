import { DASHBOARD_DEFAULT_SQL } from '../reports/reports.js';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/**
 * The dashboard page: one static HTML document with inline script. It polls
 * `/dashboard/api/state` every 2 s and draws the throughput chart from the change of the
 * delivered counters between polls (an inline SVG; no build step, no CDN).
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lakehouse dashboard</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5rem;color:#1d2330;background:#f7f8fa}
h1{font-size:1.3rem}h2{font-size:1.05rem;margin-top:1.6rem}
table{border-collapse:collapse;background:#fff;margin:.4rem 0}td,th{border:1px solid #dde1e7;padding:.25rem .6rem;text-align:right}
th{background:#eef1f5}td:first-child,th:first-child{text-align:left}
.err{color:#b00020;text-align:left;max-width:40rem;overflow:hidden;text-overflow:ellipsis}
textarea{width:100%;max-width:60rem;height:12rem;font:13px monospace}button{margin:.3rem .3rem .3rem 0}
#chart{background:#fff;border:1px solid #dde1e7}.muted{color:#6b7380}
</style></head><body>
<h1>Lakehouse dashboard <span class="muted" id="updated"></span></h1>
<h2>Delivery per stream</h2>
<table id="streams"><thead><tr><th>stream</th><th>pending</th><th>lag (s)</th><th>delivered</th><th>ev/s</th>
<th>duplicates resent</th><th>parked</th><th>failed batches</th><th>blocked</th><th>last error</th></tr></thead><tbody></tbody></table>
<h2>Throughput (events/s, per poll)</h2>
<svg id="chart" width="720" height="160" viewBox="0 0 720 160"></svg><div id="legend" class="muted"></div>
<h2>Parked events and failed batches</h2>
<button id="replay-all">Replay all</button>
<table id="problems"><thead><tr><th>stream</th><th>partition</th><th>what</th><th>events</th><th>error</th><th></th></tr></thead><tbody></tbody></table>
<h2>Lake tables</h2>
<table id="tables"><thead><tr><th>table</th><th>snapshots</th><th>files</th><th>rows</th><th>partitions</th><th>dropped by transform</th><th>last commit</th></tr></thead><tbody></tbody></table>
<h2>SQL (read-only)</h2>
<textarea id="sql">${escapeHtml(DASHBOARD_DEFAULT_SQL)}</textarea><br>
<button id="run">Run</button><span id="sql-status" class="muted"></span>
<table id="sql-result"><thead></thead><tbody></tbody></table>
<p class="muted">BullMQ queue of the relay: <a id="queues" href="/dashboard/queues">/dashboard/queues</a> (bull-board).</p>
<script>
const token = new URLSearchParams(location.search).get('token');
if (token) document.getElementById('queues').href = '/dashboard/queues?token=' + encodeURIComponent(token);
const headers = token ? { authorization: 'Bearer ' + token } : {};
const esc = (v) => String(v ?? '').replace(/[&<>"]/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
const api = (path, body) => fetch('/dashboard/api/' + path, body === undefined ? { headers } :
  { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const history = []; let prev;
const colors = ['#2563eb','#dc2626','#16a34a','#9333ea','#ea580c','#0891b2'];
function row(cells, attrs) { return '<tr ' + (attrs || '') + '>' + cells.map((c) => '<td>' + c + '</td>').join('') + '</tr>'; }
function drawChart(streams) {
  const now = Date.now();
  if (prev) {
    const dt = (now - prev.at) / 1000; const point = {};
    for (const s of streams) point[s.stream] = Math.max(0, (s.delivered - (prev.delivered[s.stream] || 0)) / dt);
    history.push(point); if (history.length > 90) history.shift();
  }
  prev = { at: now, delivered: Object.fromEntries(streams.map((s) => [s.stream, s.delivered])) };
  const max = Math.max(1, ...history.flatMap((p) => Object.values(p)));
  const svg = document.getElementById('chart');
  svg.innerHTML = streams.map((s, i) => {
    const pts = history.map((p, x) => (x * 720 / 89).toFixed(1) + ',' + (155 - (p[s.stream] || 0) / max * 145).toFixed(1)).join(' ');
    return '<polyline fill="none" stroke-width="2" stroke="' + colors[i % 6] + '" points="' + pts + '"/>';
  }).join('') + '<text x="4" y="12" font-size="11">' + max.toFixed(0) + '/s</text>';
  document.getElementById('legend').innerHTML = streams.map((s, i) => '<span style="color:' + colors[i % 6] + '">■ ' + esc(s.stream) + '</span>').join(' ');
}
async function refresh() {
  const r = await api('state'); if (!r.ok) { document.getElementById('updated').textContent = 'HTTP ' + r.status; return; }
  const st = await r.json();
  document.querySelector('#streams tbody').innerHTML = st.streams.map((s) => row([esc(s.stream), s.pending,
    s.oldestPendingAgeSeconds, s.delivered, s.throughputPerSecond, s.duplicatesResent, s.parked, s.failedBatches,
    s.blockedPartitions, '<span class="err">' + esc(s.lastError) + '</span>'], 'data-stream="' + esc(s.stream) + '"')).join('');
  const problems = st.parked.map((p) => ({ ...p, what: 'parked (' + p.reason + ')' }))
    .concat(st.failed.map((f) => ({ stream: f.stream, partitionKey: f.partitionKey, what: f.blocked ? 'blocked' : 'failed batch', events: '', error: f.lastError })));
  document.querySelector('#problems tbody').innerHTML = problems.length === 0 ? '<tr><td colspan="6" class="muted">none</td></tr>' :
    problems.map((p) => row([esc(p.stream), esc(p.partitionKey), esc(p.what), p.events, '<span class="err">' + esc(p.error) + '</span>',
      '<button class="replay" data-stream="' + esc(p.stream) + '" data-partition="' + esc(p.partitionKey) + '">Replay</button>'])).join('');
  document.querySelector('#tables tbody').innerHTML = st.tables.map((t) => row([esc(t.table), t.snapshots, t.files, t.rows,
    t.partitions, t.filteredByTransform, esc(t.lastCommit)], 'data-table="' + esc(t.table) + '"')).join('');
  drawChart(st.streams);
  document.getElementById('updated').textContent = 'updated ' + new Date(st.at).toLocaleTimeString();
}
document.addEventListener('click', async (e) => {
  const b = e.target.closest('button'); if (!b) return;
  if (b.id === 'replay-all') await api('replay', {});
  else if (b.classList.contains('replay')) await api('replay', { stream: b.dataset.stream, partitionKey: b.dataset.partition });
  else if (b.id === 'run') {
    const status = document.getElementById('sql-status'); status.textContent = ' running…';
    const r = await api('sql', { query: document.getElementById('sql').value }); const j = await r.json();
    const t = document.getElementById('sql-result');
    if (!j.success) { status.textContent = ' ' + j.errors.map((x) => x.message).join('; '); t.tHead.innerHTML = ''; t.tBodies[0].innerHTML = ''; return; }
    const cols = j.result.schema.map((c) => c.name);
    t.tHead.innerHTML = '<tr>' + cols.map((c) => '<th>' + esc(c) + '</th>').join('') + '</tr>';
    t.tBodies[0].innerHTML = j.result.rows.map((r) => row(cols.map((c) => esc(r[c])))).join('');
    status.textContent = ' ' + j.result.rows.length + ' rows'; return;
  }
  refresh();
});
refresh(); setInterval(refresh, 2000);
</script></body></html>
`;
