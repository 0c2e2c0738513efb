import { DASHBOARD_DEFAULT_SQL } from '../reports/reports.js';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/**
 * The dashboard page: one static HTML document with inline script. It polls
 * `/dashboard/api/state` every 2 s; shows whether a relay runs, highlights lag (amber from
 * 60 s, red from 300 s or with failed batches) with a banner when events are stuck, and
 * draws the last hour of deliveries from `delivery_log` (survives a reload) as an inline SVG
 * chart with labelled axes. No build step, no CDN.
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
tr.warn td{background:#fff6e0}tr.stuck td{background:#fde8ea}
#alert{display:none;padding:.6rem .9rem;margin:.6rem 0;border-radius:4px;background:#fde8ea;color:#7a0014;border:1px solid #f3b5bd}
#relay{display:inline-block;padding:.1rem .55rem;border-radius:1rem;font-size:.85rem;margin-left:.6rem;background:#eef1f5}
#relay.up{background:#dcfce7;color:#14532d}#relay.down{background:#fde8ea;color:#7a0014}
#chart text{font-size:11px;fill:#4b5563}#chart .axis{stroke:#9aa3af}#chart .grid{stroke:#eef1f5}
</style></head><body>
<h1>Lakehouse dashboard <span id="relay">relay: …</span> <span class="muted" id="updated">loading…</span></h1>
<div id="alert" role="alert"></div>
<h2>Delivery per stream</h2>
<table id="streams"><thead><tr><th>stream</th><th>pending</th><th>lag (s)</th><th>delivered</th><th>ev/s</th>
<th>duplicates resent</th><th>parked</th><th>failed batches</th><th>blocked</th><th>last error</th></tr></thead><tbody><tr><td colspan="10" class="muted">loading…</td></tr></tbody></table>
<h2>Deliveries, last hour (per minute)</h2>
<svg id="chart" width="760" height="220" viewBox="0 0 760 220"><text x="60" y="110">loading…</text></svg><div id="legend" class="muted"></div>
<h2>Parked events and failed batches</h2>
<button id="replay-all">Replay all</button>
<table id="problems"><thead><tr><th>stream</th><th>partition</th><th>what</th><th>events</th><th>error</th><th></th></tr></thead><tbody><tr><td colspan="6" class="muted">loading…</td></tr></tbody></table>
<h2>Lake tables</h2>
<table id="tables"><thead><tr><th>table</th><th>snapshots</th><th>files</th><th>rows</th><th>partitions</th><th>dropped by transform</th><th>last commit</th></tr></thead><tbody><tr><td colspan="7" class="muted">loading…</td></tr></tbody></table>
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
const colors = ['#2563eb','#dc2626','#16a34a','#9333ea','#ea580c','#0891b2'];
const LAG_WARN = 60, LAG_STUCK = 300;
function row(cells, attrs) { return '<tr ' + (attrs || '') + '>' + cells.map((c) => '<td>' + c + '</td>').join('') + '</tr>'; }
const hhmm = (t) => new Date(t).toISOString().slice(11, 16);
function drawChart(st) {
  const W = 760, H = 220, L = 56, R = 24, T = 12, B = 40, w = W - L - R, h = H - T - B;
  const end = Math.floor(Date.parse(st.at) / 60000) * 60000, start = end - 60 * 60000;
  const streams = st.streams.map((s) => s.stream);
  const by = {}; for (const p of st.history) (by[p.stream] = by[p.stream] || {})[Date.parse(p.minute)] = p.events;
  const max = Math.max(1, ...st.history.map((p) => p.events));
  const x = (t) => L + (t - start) / (end - start) * w, y = (v) => T + h - v / max * h;
  let out = '';
  for (const f of [0, 0.5, 1]) {
    const v = max * f;
    out += '<line class="grid" x1="' + L + '" x2="' + (L + w) + '" y1="' + y(v) + '" y2="' + y(v) + '"/>' +
      '<text x="' + (L - 6) + '" y="' + (y(v) + 4) + '" text-anchor="end">' + (v >= 10 || v === 0 ? Math.round(v) : v.toFixed(1)) + '</text>';
  }
  for (let t = start; t <= end; t += 10 * 60000)
    out += '<line class="axis" x1="' + x(t) + '" x2="' + x(t) + '" y1="' + (T + h) + '" y2="' + (T + h + 4) + '"/>' +
      '<text class="xtick" x="' + x(t) + '" y="' + (T + h + 16) + '" text-anchor="middle">' + hhmm(t) + '</text>';
  out += '<line class="axis" x1="' + L + '" x2="' + L + '" y1="' + T + '" y2="' + (T + h) + '"/>' +
    '<line class="axis" x1="' + L + '" x2="' + (L + w) + '" y1="' + (T + h) + '" y2="' + (T + h) + '"/>' +
    '<text class="axis-label" x="' + (L + w / 2) + '" y="' + (H - 4) + '" text-anchor="middle">time (UTC, minute)</text>' +
    '<text class="axis-label" transform="translate(14 ' + (T + h / 2) + ') rotate(-90)" text-anchor="middle">events per minute</text>';
  streams.forEach((name, i) => {
    const pts = []; for (let t = start; t <= end; t += 60000) pts.push(x(t).toFixed(1) + ',' + y((by[name] || {})[t] || 0).toFixed(1));
    out += '<polyline fill="none" stroke-width="2" stroke="' + colors[i % 6] + '" points="' + pts.join(' ') + '"/>';
  });
  if (st.history.length === 0) out += '<text x="' + (L + 12) + '" y="' + (T + 20) + '">no deliveries in the last hour</text>';
  document.getElementById('chart').innerHTML = out;
  document.getElementById('legend').innerHTML = streams.map((s, i) => '<span style="color:' + colors[i % 6] + '">■ ' + esc(s) + '</span>').join(' ');
}
function showHealth(st) {
  const relay = document.getElementById('relay'), n = st.relay.workers;
  relay.className = n === null ? '' : n > 0 ? 'up' : 'down';
  relay.textContent = n === null ? 'relay: unknown (Redis did not answer)' : n > 0 ? 'relay running (' + n + ' worker' + (n > 1 ? 's' : '') + ')' : 'no relay running';
  const pending = st.streams.reduce((a, s) => a + s.pending, 0);
  const lag = Math.max(0, ...st.streams.map((s) => s.oldestPendingAgeSeconds));
  const failed = st.streams.reduce((a, s) => a + s.failedBatches + s.blockedPartitions, 0);
  const parked = st.streams.reduce((a, s) => a + s.parked, 0);
  const msgs = [];
  if (pending > 0 && lag >= LAG_WARN) msgs.push(pending + ' events pending, the oldest for ' + Math.round(lag) + ' s' + (n === 0 ? ': no relay is running (start: lakehouse relay)' : ''));
  if (failed > 0) msgs.push(failed + ' partition(s) failed or blocked: see below, Replay when the cause is fixed');
  if (parked > 0) msgs.push(parked + ' parked event(s)');
  const alert = document.getElementById('alert');
  alert.style.display = msgs.length ? 'block' : 'none'; alert.textContent = msgs.length ? '⚠ ' + msgs.join(' · ') : '';
}
const rowClass = (s) => s.failedBatches + s.blockedPartitions > 0 || (s.pending > 0 && s.oldestPendingAgeSeconds >= LAG_STUCK) ? 'stuck' :
  s.pending > 0 && s.oldestPendingAgeSeconds >= LAG_WARN ? 'warn' : '';
async function refresh() {
  let r; try { r = await api('state'); } catch (e) { document.getElementById('updated').textContent = 'server unreachable'; return; }
  if (!r.ok) { document.getElementById('updated').textContent = 'HTTP ' + r.status; return; }
  const st = await r.json();
  document.querySelector('#streams tbody').innerHTML = st.streams.map((s) => row([esc(s.stream), s.pending,
    s.oldestPendingAgeSeconds, s.delivered, s.throughputPerSecond, s.duplicatesResent, s.parked, s.failedBatches,
    s.blockedPartitions, '<span class="err">' + esc(s.lastError) + '</span>'], 'class="' + rowClass(s) + '" data-stream="' + esc(s.stream) + '"')).join('');
  const problems = st.parked.map((p) => ({ ...p, what: 'parked (' + p.reason + ')' }))
    .concat(st.failed.map((f) => ({ stream: f.stream, partitionKey: f.partitionKey, what: f.blocked ? 'blocked' : 'failed batch', events: '', error: f.lastError })));
  document.querySelector('#problems tbody').innerHTML = problems.length === 0 ? '<tr><td colspan="6" class="muted">none</td></tr>' :
    problems.map((p) => row([esc(p.stream), esc(p.partitionKey), esc(p.what), p.events, '<span class="err">' + esc(p.error) + '</span>',
      '<button class="replay" data-stream="' + esc(p.stream) + '" data-partition="' + esc(p.partitionKey) + '">Replay</button>'])).join('');
  document.querySelector('#tables tbody').innerHTML = st.tables.map((t) => row([esc(t.table), t.snapshots, t.files, t.rows,
    t.partitions, t.filteredByTransform, esc(t.lastCommit)], 'data-table="' + esc(t.table) + '"')).join('') || '<tr><td colspan="7" class="muted">no tables yet</td></tr>';
  drawChart(st); showHealth(st);
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
