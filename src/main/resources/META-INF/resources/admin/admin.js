// Sluice ops dashboard: lists export jobs per tenant from /admin/api/jobs and cancels them.
// The admin token is asked once and kept in sessionStorage (this tab only); every call sends it as a Bearer token.
(function () {
  'use strict';
  const KEY = 'sluice.adminToken';
  const $ = (id) => document.getElementById(id);
  let timer = null;

  function token() { return sessionStorage.getItem(KEY); }

  async function api(path, options) {
    const res = await fetch('/admin/api' + path, Object.assign({}, options, {
      headers: { 'Authorization': 'Bearer ' + token(), 'Accept': 'application/json' }
    }));
    if (res.status === 401) { sessionStorage.removeItem(KEY); showLogin('The token was refused.'); throw new Error('unauthorized'); }
    const text = await res.text();
    const body = text ? JSON.parse(text) : null;
    if (!res.ok) {
      const msg = body && body.issue && body.issue[0] ? body.issue[0].diagnostics : res.statusText;
      throw new Error(res.status + ': ' + msg);
    }
    return body;
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v; else if (k.startsWith('data-')) e.setAttribute(k, v); else e[k] = v;
    }
    for (const c of children) { if (c !== null && c !== undefined) e.append(c.nodeType ? c : String(c)); }
    return e;
  }

  function size(n) {
    if (n < 1024) return n + ' B';
    const u = ['KiB', 'MiB', 'GiB', 'TiB']; let i = -1;
    do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
    return n.toFixed(1) + ' ' + u[i];
  }

  function time(t) { return t ? new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : ''; }

  function progress(job) {
    let pct;
    if (job.status === 'complete') pct = 100;
    else if (job.total) pct = Math.min(100, Math.floor(100 * job.exported / job.total));
    else if (job.phases) pct = Math.floor(100 * job.phasesDone / job.phases);
    else pct = 0;
    const bar = el('div', { class: 'bar' + (pct === 100 ? ' done' : ''), title: job.exported + (job.total ? ' / ' + job.total : '') + ' resources' },
      el('div', {}));
    bar.firstChild.style.width = pct + '%';
    return el('span', { class: 'progress', 'data-pct': String(pct) }, bar, el('span', { class: 'pct' }, pct + '%'),
      el('div', { class: 'muted' }, job.exported + (job.total !== null ? ' / ' + job.total : '') + ' resources'));
  }

  function files(job) {
    if (!job.fileCount) return el('span', { class: 'muted' }, 'none');
    const list = el('ul', { class: 'files' });
    for (const f of job.files) list.append(el('li', { class: 'mono' }, f.kind + ' ' + f.type + ' #' + f.index + ': ' + f.resources + ' res, ' + size(f.bytes)));
    return el('details', {}, el('summary', {}, job.fileCount + ' files, ' + size(job.bytes)), list);
  }

  function lease(job) {
    if (!job.workerId) return el('span', { class: 'muted' }, '–');
    const parts = [el('div', { class: 'mono' }, job.workerId), el('div', { class: 'muted' }, 'token ' + job.fencingToken)];
    if (job.status === 'in-progress' && job.leaseExpiresAt) parts.push(el('div', {}, 'expires ' + time(job.leaseExpiresAt)));
    return el('div', {}, ...parts);
  }

  function row(job) {
    const active = job.status === 'accepted' || job.status === 'in-progress';
    const cancel = active ? el('button', { class: 'cancel', type: 'button', 'data-job': job.id, textContent: 'Cancel' }) : null;
    if (cancel) cancel.addEventListener('click', () => cancelJob(job));
    return el('tr', { 'data-job': job.id, 'data-status': job.status },
      el('td', { class: 'mono' }, job.id, el('div', { class: 'muted' }, job.level + (job.groupId ? ' ' + job.groupId : '') + (job.owner ? ' · ' + job.owner : ''))),
      el('td', {}, el('span', { class: 'status ' + job.status }, job.status),
        job.errorMessage ? el('div', { class: 'error' }, job.errorMessage) : null),
      el('td', {}, progress(job)),
      el('td', {}, String(job.attempts)),
      el('td', {}, lease(job)),
      el('td', {}, files(job)),
      el('td', {}, time(job.createdAt), job.completedAt ? el('div', { class: 'muted' }, 'done ' + time(job.completedAt)) : null),
      el('td', {}, cancel));
  }

  async function cancelJob(job) {
    if (!window.confirm('Cancel export job ' + job.id + ' of tenant ' + job.tenant + '?')) return;
    try { await api('/jobs/' + encodeURIComponent(job.id) + '/cancel', { method: 'POST' }); $('error').textContent = ''; }
    catch (e) { $('error').textContent = 'Cancel failed: ' + e.message; }
    load();
  }

  async function load() {
    if (!token()) return;
    const q = new URLSearchParams();
    if ($('tenant-filter').value) q.set('tenant', $('tenant-filter').value);
    if ($('status-filter').value) q.set('status', $('status-filter').value);
    let jobs, summary;
    try {
      [jobs, summary] = await Promise.all([api('/jobs?' + q), api('/summary')]);
    } catch (e) {
      if (e.message !== 'unauthorized') $('error').textContent = 'Could not load jobs: ' + e.message;
      return;
    }
    $('error').textContent = '';
    renderSummary(summary);
    const byTenant = new Map();
    for (const j of jobs) { if (!byTenant.has(j.tenant)) byTenant.set(j.tenant, []); byTenant.get(j.tenant).push(j); }
    const box = $('tenants');
    box.replaceChildren();
    if (!jobs.length) box.append(el('p', { class: 'muted', id: 'no-jobs' }, 'No export jobs.'));
    for (const [tenant, list] of [...byTenant.entries()].sort()) {
      const body = el('tbody', {}, ...list.map(row));
      box.append(el('section', { class: 'tenant', 'data-tenant': tenant },
        el('h2', {}, 'Tenant ' + tenant + ' (' + list.length + ')'),
        el('table', {}, el('thead', {}, el('tr', {}, ...['Job', 'Status', 'Progress', 'Attempts', 'Lease holder', 'Files', 'Created', ''].map(h => el('th', {}, h)))), body)));
    }
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  }

  function renderSummary(summary) {
    const tenants = [...new Set(summary.map(s => s.tenant))].sort();
    const sel = $('tenant-filter'); const current = sel.value;
    sel.replaceChildren(el('option', { value: '' }, 'all'), ...tenants.map(t => el('option', { value: t }, t)));
    sel.value = current;
    const totals = {};
    for (const s of summary) totals[s.status] = (totals[s.status] || 0) + s.count;
    $('summary').replaceChildren(...Object.entries(totals).map(([s, n]) => el('span', { class: 'chip' }, s + ': ' + n)));
  }

  function showLogin(message) {
    $('dashboard').hidden = true; $('logout').hidden = true; $('login').hidden = false;
    $('login-error').textContent = message || '';
    if (timer) { clearInterval(timer); timer = null; }
  }

  function showDashboard() {
    $('login').hidden = true; $('dashboard').hidden = false; $('logout').hidden = false;
    load();
    schedule();
  }

  function schedule() {
    if (timer) clearInterval(timer);
    timer = $('auto-refresh').checked ? setInterval(load, 5000) : null;
  }

  $('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(KEY, $('token').value.trim());
    $('token').value = '';
    showDashboard();
  });
  $('logout').addEventListener('click', () => { sessionStorage.removeItem(KEY); showLogin(); });
  $('refresh').addEventListener('click', load);
  $('tenant-filter').addEventListener('change', load);
  $('status-filter').addEventListener('change', load);
  $('auto-refresh').addEventListener('change', schedule);

  if (token()) showDashboard(); else showLogin();
})();
