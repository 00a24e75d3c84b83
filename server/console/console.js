/* Trawl web console: plain JavaScript against the REST API (docs/api.md).
 *
 * No framework and no build step. Every API call goes through `api()`, which
 * adds the API key (kept in sessionStorage only) and turns error answers
 * (`{"error": {"code", "message", "details"?}}`) into ApiError. Data from the
 * server is only ever inserted as text (textContent), never as HTML. */
'use strict';

(() => {
  const KEY_STORAGE = 'trawl.console.apiKey';
  const METRICS_INTERVAL_MS = 3000;
  const READY_INTERVAL_MS = 10000;
  const PAYLOAD_COLLAPSE_CHARS = 320;
  const PAYLOAD_COLLAPSE_LINES = 8;

  const state = {
    key: readStoredKey(),
    collections: [],
    selected: null,
    info: null,
    // Points browser: the cursor of the page shown and the next one.
    scroll: { cursor: null, next: null, page: 0, shown: 0 },
    metricsTimer: null,
    metricsInFlight: false,
    metricsGeneration: 0,
    metricsPolls: 0,
    lastSample: null,
    keyNeeded: false,
    searchSeq: 0,
    selectSeq: 0,
  };

  // ------------------------------------------------------------------ helpers

  const $ = (id) => document.getElementById(id);

  /** An element with attributes (`class`, `dataset`, others as attributes)
   * and children (nodes or strings, inserted as text). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [name, value] of Object.entries(attrs)) {
        if (value === undefined || value === null || value === false) continue;
        if (name === 'class') node.className = value;
        else if (name === 'dataset') Object.assign(node.dataset, value);
        else if (name === 'text') node.textContent = value;
        else node.setAttribute(name, value === true ? '' : String(value));
      }
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function clear(node) {
    node.replaceChildren();
    return node;
  }

  function readStoredKey() {
    try {
      return sessionStorage.getItem(KEY_STORAGE);
    } catch {
      return null;
    }
  }

  const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

  /** 1536 → "1.5 KiB". */
  function humanBytes(bytes) {
    if (!Number.isFinite(bytes)) return '–';
    let value = bytes;
    let unit = 0;
    while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
      value /= 1024;
      unit += 1;
    }
    const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
    return `${value.toFixed(digits)} ${BYTE_UNITS[unit]}`;
  }

  function humanCount(n) {
    if (!Number.isFinite(n)) return '–';
    return Math.round(n).toLocaleString('en');
  }

  /** Seconds → "3.2 ms", "850 µs", "1.20 s". */
  function humanSeconds(seconds) {
    if (!Number.isFinite(seconds)) return '–';
    if (seconds >= 1) return `${seconds.toFixed(2)} s`;
    if (seconds >= 1e-3) return `${(seconds * 1e3).toFixed(seconds >= 0.1 ? 0 : 1)} ms`;
    return `${(seconds * 1e6).toFixed(0)} µs`;
  }

  function formatScore(score) {
    if (typeof score !== 'number') return String(score);
    return Math.abs(score) >= 1000 ? score.toFixed(1) : score.toFixed(4);
  }

  // Integers past 2^53 (u64 point ids, large payload numbers) would lose
  // digits as JavaScript numbers: `parseJson` keeps them as strings carrying
  // this mark, and `idText` / `prettyJson` write them back as plain digits.
  const BIG_INT = '\u0000int:';
  const NUMBER_OR_STRING = /"(?:[^"\\]|\\.)*"|(?<![\d.eE+-])-?\d{16,}(?![\d.eE])/g;

  function parseJson(text) {
    const kept = text.replace(NUMBER_OR_STRING, (m) =>
      m[0] === '"' || Number.isSafeInteger(Number(m)) ? m : `"\\u0000int:${m}"`,
    );
    return JSON.parse(kept);
  }

  function toJson(value, indent) {
    return JSON.stringify(value, null, indent).replace(/"\\u0000int:(-?\d+)"/g, '$1');
  }

  const prettyJson = (value) => toJson(value, 2);

  function idText(id) {
    if (typeof id === 'string') return id.startsWith(BIG_INT) ? id.slice(BIG_INT.length) : id;
    return JSON.stringify(id);
  }

  function plural(n, one, many) {
    return `${humanCount(n)} ${n === 1 ? one : many}`;
  }

  /** A payload as pretty JSON, folded in a <details> when long. */
  function payloadView(payload) {
    if (payload === undefined || payload === null) return el('p', { class: 'muted small' }, 'no payload');
    const json = prettyJson(payload);
    const pre = el('pre', { class: 'json' }, json);
    const lines = json.split('\n').length;
    if (json.length <= PAYLOAD_COLLAPSE_CHARS && lines <= PAYLOAD_COLLAPSE_LINES) {
      return el('div', { class: 'payload' }, pre);
    }
    const keys = typeof payload === 'object' ? Object.keys(payload).length : 0;
    return el(
      'details',
      { class: 'payload' },
      el('summary', null, `payload: ${plural(keys, 'key', 'keys')}, ${humanBytes(json.length)}`),
      pre,
    );
  }

  // ---------------------------------------------------------------- API calls

  class ApiError extends Error {
    constructor(status, code, message, details) {
      super(message);
      this.status = status;
      this.code = code;
      this.details = details;
    }

    describe() {
      const where = this.status ? `${this.status} ${this.code}` : this.code;
      return `${this.message} (${where})`;
    }
  }

  /** Calls the API: JSON in and out (text out with `raw`). A 401 asks for
   * the key and throws. */
  async function api(method, path, body, { raw = false } = {}) {
    const headers = { accept: raw ? 'text/plain' : 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (state.key) headers.authorization = `Bearer ${state.key}`;
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : toJson(body),
        cache: 'no-store',
      });
    } catch (error) {
      throw new ApiError(0, 'network_error', `The server did not answer: ${error.message}`);
    }
    const text = await response.text();
    if (!response.ok) {
      let code = 'http_error';
      let message = `${response.status} ${response.statusText}`.trim();
      let details;
      try {
        const parsed = JSON.parse(text);
        if (parsed && parsed.error) {
          code = parsed.error.code || code;
          message = parsed.error.message || message;
          details = parsed.error.details;
        }
      } catch {
        if (text) message = text.slice(0, 500);
      }
      const error = new ApiError(response.status, code, message, details);
      if (response.status === 401) askForKey(error);
      throw error;
    }
    if (raw) return text;
    try {
      return text ? parseJson(text) : null;
    } catch {
      throw new ApiError(response.status, 'invalid_json', 'The server answered something that is not JSON');
    }
  }

  const collectionPath = (name) => `/collections/${encodeURIComponent(name)}`;

  // ------------------------------------------------------------------- banner

  function showBanner(message) {
    $('banner-text').textContent = message;
    $('banner').hidden = false;
  }

  function hideBanner() {
    $('banner').hidden = true;
    $('banner-text').textContent = '';
  }

  function showInlineError(id, message) {
    const node = $(id);
    node.textContent = message;
    node.hidden = !message;
  }

  /** Reports an error in `inlineId` (or the banner), except a 401, which the
   * key form already shows. */
  function report(error, inlineId) {
    if (error instanceof ApiError && error.status === 401) return;
    const message = error instanceof ApiError ? error.describe() : String(error.message || error);
    if (inlineId) showInlineError(inlineId, message);
    else showBanner(message);
  }

  // ------------------------------------------------------------------ API key

  function updateKeyControls() {
    $('forget-key').hidden = !state.key;
    $('key-state').textContent = state.key ? 'Using an API key' : '';
  }

  function askForKey(error) {
    const firstTime = !state.keyNeeded;
    state.keyNeeded = true;
    stopMetrics();
    const panel = $('key-panel');
    if (state.key) $('key-message').textContent = `The key was refused: ${error.message}`;
    else if (firstTime) $('key-message').textContent = 'This server requires an API key.';
    if (state.key) {
      // A refused key is not kept for the next page load.
      state.key = null;
      try {
        sessionStorage.removeItem(KEY_STORAGE);
      } catch {
        // Nothing stored.
      }
      updateKeyControls();
    }
    panel.hidden = false;
    document.body.classList.add('locked');
    if (firstTime || document.activeElement !== $('key-input')) $('key-input').focus();
  }

  function useKey(key) {
    state.key = key;
    try {
      sessionStorage.setItem(KEY_STORAGE, key);
    } catch {
      // Storage disabled: the key lives in this page only.
    }
    state.keyNeeded = false;
    state.metricsGeneration += 1;
    $('key-panel').hidden = true;
    $('key-input').value = '';
    document.body.classList.remove('locked');
    updateKeyControls();
    hideBanner();
    start();
  }

  function forgetKey() {
    state.key = null;
    try {
      sessionStorage.removeItem(KEY_STORAGE);
    } catch {
      // Nothing stored.
    }
    updateKeyControls();
    stopMetrics();
    state.metricsGeneration += 1;
    state.lastSample = null;
    state.collections = [];
    state.selected = null;
    state.info = null;
    clear($('collection-list'));
    clear($('hits'));
    clear($('points'));
    clear($('details'));
    clear($('metrics'));
    $('search-summary').textContent = '';
    $('search-request').hidden = true;
    $('points-status').textContent = '';
    $('collection-title').textContent = 'No collection selected';
    $('collection-summary').textContent = '';
    $('collection-alert').hidden = true;
    start();
  }

  // -------------------------------------------------------------- readiness

  async function checkReady() {
    const node = $('server-status');
    try {
      const response = await fetch('/readyz', { cache: 'no-store' });
      const ready = await response.json().catch(() => ({}));
      node.classList.toggle('ok', Boolean(ready.ready));
      node.classList.toggle('bad', !ready.ready);
      node.textContent = ready.ready
        ? `Ready${ready.model ? ` · model ${ready.model}` : ''}`
        : `Not ready${ready.model_loaded === false ? ' (model not loaded)' : ''}${ready.storage_open === false ? ' (storage not open)' : ''}`;
    } catch {
      node.classList.remove('ok');
      node.classList.add('bad');
      node.textContent = 'Server unreachable';
    }
  }

  // -------------------------------------------------------------------- tabs

  const TABS = ['search', 'points', 'details', 'metrics'];

  function showTab(name, focus = false) {
    for (const tab of TABS) {
      const selected = tab === name;
      const button = $(`tab-${tab}`);
      button.setAttribute('aria-selected', String(selected));
      button.tabIndex = selected ? 0 : -1;
      $(`panel-${tab}`).hidden = !selected;
      if (selected && focus) button.focus();
    }
    if (name === 'points' && state.selected && state.scroll.page === 0) loadPoints(null);
    if (name === 'metrics') pollMetrics();
  }

  function currentTab() {
    return TABS.find((tab) => $(`tab-${tab}`).getAttribute('aria-selected') === 'true');
  }

  function onTabKey(event) {
    const index = TABS.indexOf(currentTab());
    let next = null;
    if (event.key === 'ArrowRight') next = (index + 1) % TABS.length;
    else if (event.key === 'ArrowLeft') next = (index - 1 + TABS.length) % TABS.length;
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = TABS.length - 1;
    if (next === null) return;
    event.preventDefault();
    showTab(TABS[next], true);
  }

  // ------------------------------------------------------------- collections

  async function refreshCollections() {
    let list;
    try {
      list = await api('GET', '/collections');
    } catch (error) {
      report(error);
      return;
    }
    state.collections = (list && list.collections) || [];
    renderCollectionList();
    const names = state.collections.map((c) => c.name);
    const keep = state.selected && names.includes(state.selected) ? state.selected : names[0];
    if (keep) await selectCollection(keep, { keepView: keep === state.selected });
    else showNoCollection();
  }

  function renderCollectionList() {
    const list = clear($('collection-list'));
    $('collections-empty').hidden = state.collections.length > 0;
    for (const summary of state.collections) {
      const damaged = summary.status === 'damaged';
      const button = el(
        'button',
        {
          type: 'button',
          class: `collection${damaged ? ' damaged' : ''}`,
          'aria-current': summary.name === state.selected ? 'true' : false,
          dataset: { collection: summary.name },
        },
        el('span', { class: 'collection-name' }, summary.name),
        el(
          'span',
          { class: 'collection-meta', dataset: { points: String(summary.points) } },
          damaged ? 'damaged' : plural(summary.points, 'point', 'points'),
        ),
      );
      button.addEventListener('click', () => selectCollection(summary.name));
      const item = el('li', null, button);
      if (damaged && summary.error) {
        item.append(el('p', { class: 'collection-error small', title: summary.error }, summary.error));
      }
      list.append(item);
    }
  }

  function showNoCollection() {
    state.selected = null;
    state.info = null;
    $('collection-title').textContent = 'No collection selected';
    $('collection-summary').textContent = '';
    $('collection-alert').hidden = true;
    clear($('details'));
    clear($('hits'));
    clear($('points'));
    configureSearch(null);
  }

  async function selectCollection(name, { keepView = false } = {}) {
    const seq = ++state.selectSeq;
    const changed = name !== state.selected;
    state.selected = name;
    for (const button of document.querySelectorAll('#collection-list button.collection')) {
      if (button.dataset.collection === name) button.setAttribute('aria-current', 'true');
      else button.removeAttribute('aria-current');
    }
    $('collection-title').textContent = name;
    $('collection-alert').hidden = true;
    if (changed || !keepView) {
      clear($('hits'));
      $('search-summary').textContent = '';
      $('search-request').hidden = true;
      showInlineError('search-error', '');
    }
    const summary = state.collections.find((c) => c.name === name);
    if (summary && summary.status === 'damaged') {
      state.info = null;
      renderDamaged(summary);
      return;
    }
    let info;
    try {
      info = await api('GET', collectionPath(name));
    } catch (error) {
      if (seq !== state.selectSeq) return;
      state.info = null;
      if (error instanceof ApiError && error.code === 'collection_damaged') {
        renderDamaged({ name, status: 'damaged', error: error.message });
      } else {
        report(error, 'details-error');
        $('collection-summary').textContent = error instanceof ApiError ? error.message : '';
        configureSearch(null);
      }
      return;
    }
    if (seq !== state.selectSeq) return;
    state.info = info;
    showInlineError('details-error', '');
    renderSummary(info);
    renderDetails(info);
    configureSearch(info);
    if (changed || !keepView) {
      resetPoints();
      if (currentTab() === 'points') loadPoints(null);
    }
  }

  function renderSummary(info) {
    const parts = [
      plural(info.points, 'point', 'points'),
      `${humanBytes(info.ram_bytes)} in memory`,
      `${humanBytes(info.disk_bytes)} on disk`,
    ];
    if (info.optimizer_status && info.optimizer_status !== 'ok') parts.push(info.optimizer_status);
    $('collection-summary').textContent = parts.join(' · ');
  }

  function renderDamaged(summary) {
    $('collection-summary').textContent = 'damaged: not served';
    const alert = clear($('collection-alert'));
    alert.append(
      el('h3', null, 'This collection is damaged'),
      el('p', null, summary.error || 'Its files failed their checks at open.'),
      el(
        'p',
        { class: 'muted small' },
        'Every other collection serves as usual. Restore a snapshot, accept the intact prefix of its log ' +
          '(POST /collections/{name}/recover), or delete it: see docs/storage.md.',
      ),
    );
    alert.hidden = false;
    clear($('details')).append(el('p', { class: 'muted' }, 'No details: the collection is not open.'));
    clear($('hits'));
    clear($('points'));
    resetPoints();
    $('points-status').textContent = 'This collection is damaged: its points cannot be read.';
    $('points-next').disabled = true;
    $('points-first').disabled = true;
    configureSearch(null, 'This collection is damaged: it cannot be searched.');
  }

  function keyValueTable(caption, rows) {
    const body = el('tbody');
    for (const [key, value] of rows) body.append(el('tr', null, el('th', { scope: 'row' }, key), el('td', null, value)));
    return el('table', { class: 'kv' }, el('caption', null, caption), body);
  }

  function vectorRows(info) {
    const rows = [];
    if (info.vector) rows.push(['(default)', info.vector]);
    for (const [name, spec] of Object.entries(info.vectors || {})) rows.push([name, spec]);
    return rows;
  }

  function renderDetails(info) {
    const details = clear($('details'));
    details.append(
      keyValueTable('Points', [
        ['Live points', humanCount(info.points)],
        ['Tombstones', humanCount(info.tombstones)],
        ['Indexed (sealed) points', humanCount(info.indexed_points)],
        ['Graph segments', humanCount(info.graph_segments)],
        ['Optimizer', info.optimizer_status || 'ok'],
      ]),
    );

    const vectors = el(
      'table',
      { class: 'grid-table' },
      el('caption', null, 'Vectors'),
      el(
        'thead',
        null,
        el(
          'tr',
          null,
          ['Name', 'Kind', 'Dims', 'Metric', 'Layout', 'Filled from text', 'HNSW'].map((h) => el('th', { scope: 'col' }, h)),
        ),
      ),
    );
    const vbody = el('tbody');
    for (const [name, spec] of vectorRows(info)) {
      const sparse = spec.kind === 'sparse';
      const encoder = name === '(default)' ? 'yes (the model)' : spec.encoder ? `yes (${spec.encoder})` : 'no';
      const hnsw = spec.hnsw ? `m ${spec.hnsw.m}, ef_construction ${spec.hnsw.ef_construction}` : '–';
      let layout = spec.layout || '–';
      if (spec.muvera && spec.muvera.fde_dims) layout += ` (FDE ${spec.muvera.fde_dims} dims)`;
      vbody.append(
        el(
          'tr',
          null,
          el('th', { scope: 'row' }, name),
          el('td', null, sparse ? `sparse${spec.idf ? ', idf' : ''}` : 'dense'),
          el('td', null, sparse ? '–' : humanCount(spec.dims)),
          el('td', null, sparse ? 'dot' : spec.metric || '–'),
          el('td', null, sparse ? '–' : layout),
          el('td', null, sparse ? 'no' : encoder),
          el('td', null, sparse ? '–' : hnsw),
        ),
      );
    }
    vectors.append(vbody);
    details.append(el('div', { class: 'table-scroll' }, vectors));

    const indexes = Object.entries(info.payload_indexes || {});
    details.append(
      keyValueTable('Indexes', [
        ['Full-text index', info.text ? `field "${info.text.field}", language ${info.text.language}` : 'none'],
        ['Payload indexes', indexes.length ? indexes.map(([f, t]) => `${f}: ${t}`).join(', ') : 'none'],
      ]),
    );

    const memory = info.memory || {};
    details.append(
      el(
        'div',
        { class: 'memory' },
        memoryTable('Memory (RAM) by part', memory.ram || {}, info.ram_bytes),
        memoryTable('Disk by part', memory.disk || {}, info.disk_bytes),
      ),
    );
  }

  function memoryTable(caption, parts, total) {
    const entries = Object.entries(parts).sort((a, b) => b[1] - a[1]);
    const sum = Number.isFinite(total) ? total : entries.reduce((s, [, v]) => s + v, 0);
    const body = el('tbody');
    for (const [part, bytes] of entries) {
      body.append(
        el(
          'tr',
          { dataset: { part } },
          el('th', { scope: 'row' }, part.replace(/_/g, ' ')),
          el('td', { class: 'num', title: `${humanCount(bytes)} bytes` }, humanBytes(bytes)),
          el(
            'td',
            { class: 'bar' },
            el('meter', {
              min: 0,
              max: Math.max(sum, 1),
              value: bytes,
              'aria-label': `${part}: share of ${caption.toLowerCase()}`,
            }),
          ),
        ),
      );
    }
    const foot = el(
      'tfoot',
      null,
      el('tr', null, el('th', { scope: 'row' }, 'total'), el('td', { class: 'num' }, humanBytes(sum)), el('td')),
    );
    return el(
      'table',
      { class: 'grid-table memory-table' },
      el('caption', null, caption),
      el('thead', null, el('tr', null, el('th', { scope: 'col' }, 'Part'), el('th', { scope: 'col' }, 'Size'), el('th', { scope: 'col' }, 'Share'))),
      body,
      foot,
    );
  }

  // ------------------------------------------------------------------ search

  /** The vectors a text can fill, in the order the server lists a hybrid
   * query's stages: the unnamed vector first (names sort), then named
   * vectors declared with an `encoder`. */
  function textVectors(info) {
    const names = [];
    if (info.vector) names.push('');
    for (const [name, spec] of Object.entries(info.vectors || {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (spec.kind !== 'sparse' && spec.encoder) names.push(name);
    }
    return names;
  }

  function configureSearch(info, reason) {
    const mode = $('search-mode');
    const using = $('search-using');
    const previousMode = mode.value;
    const previousUsing = using.value;
    clear(mode);
    clear(using);
    const note = $('search-note');
    const input = $('search-input');
    if (!info) {
      input.disabled = true;
      $('search-run').disabled = true;
      mode.disabled = true;
      $('search-using-label').hidden = true;
      note.textContent = reason || (state.selected ? '' : 'Select a collection to search it.');
      note.hidden = !note.textContent;
      return;
    }
    const vectors = textVectors(info);
    const modes = [];
    if (info.text && vectors.length) modes.push(['hybrid', 'Hybrid (dense + lexical)']);
    if (vectors.length) modes.push(['dense', 'Dense (vector)']);
    if (info.text) modes.push(['lexical', 'Lexical (BM25)']);
    if (!info.text && vectors.length > 1) modes.push(['hybrid', 'Hybrid (every vector)']);
    for (const [value, label] of modes) mode.append(el('option', { value }, label));
    for (const name of vectors) using.append(el('option', { value: name }, name || '(default)'));
    if (modes.some(([v]) => v === previousMode)) mode.value = previousMode;
    if (vectors.includes(previousUsing)) using.value = previousUsing;
    const searchable = modes.length > 0;
    input.disabled = !searchable;
    $('search-run').disabled = !searchable;
    mode.disabled = modes.length < 2;
    note.textContent = searchable
      ? ''
      : 'This collection has no vector the model fills and no full-text index: a text cannot search it.';
    note.hidden = searchable;
    updateUsingVisibility();
  }

  function updateUsingVisibility() {
    const vectors = state.info ? textVectors(state.info) : [];
    $('search-using-label').hidden = !(vectors.length > 1 && $('search-mode').value === 'dense');
  }

  /** A human name for stage `stage` of a query run in `mode`. */
  function stageLabel(mode, using, stage, stagesSeen) {
    if (mode === 'lexical') return 'lexical (BM25)';
    const dense = (name) => `dense vector ${name ? `"${name}"` : '(default)'}`;
    if (mode === 'dense') return dense(using);
    const vectors = state.info ? textVectors(state.info) : [];
    const stages = vectors.map(dense);
    if (state.info && state.info.text) stages.push('lexical (BM25)');
    // If the server ran other stages than expected, say only the number.
    if (stagesSeen > stages.length) return `stage ${stage}`;
    return stages[stage] || `stage ${stage}`;
  }

  function parseFilter() {
    const area = $('search-filter');
    const text = area.value.trim();
    area.removeAttribute('aria-invalid');
    $('filter-error').textContent = '';
    if (!text) return { ok: true, filter: undefined };
    let filter;
    let problem = null;
    try {
      filter = parseJson(text);
    } catch (error) {
      problem = `The filter is not valid JSON: ${error.message}`;
    }
    if (!problem && (!filter || typeof filter !== 'object' || Array.isArray(filter))) {
      problem = 'The filter must be a JSON object, e.g. {"must": [{"key": "…", "match": {"value": …}}]}';
    }
    if (problem) {
      area.setAttribute('aria-invalid', 'true');
      $('filter-error').textContent = problem;
      return { ok: false };
    }
    return { ok: true, filter };
  }

  async function runSearch(event) {
    if (event) event.preventDefault();
    if (!state.selected || !state.info) return;
    showInlineError('search-error', '');
    const text = $('search-input').value.trim();
    if (!text) {
      showInlineError('search-error', 'Type something to search for.');
      $('search-input').focus();
      return;
    }
    const parsed = parseFilter();
    if (!parsed.ok) {
      $('search-filter').focus();
      return;
    }
    const limit = Number.parseInt($('search-limit').value, 10);
    if (!Number.isInteger(limit) || limit < 1) {
      showInlineError('search-error', 'The limit is a whole number from 1.');
      $('search-limit').focus();
      return;
    }
    const mode = $('search-mode').value || 'dense';
    const body = { text, mode, limit, with_payload: true, explain: true };
    let using = '';
    if (mode === 'dense' && !$('search-using-label').hidden) using = $('search-using').value;
    else if (mode === 'dense') using = textVectors(state.info)[0] || '';
    if (mode === 'dense' && using) body.using = using;
    if (parsed.filter) body.filter = parsed.filter;

    const seq = ++state.searchSeq;
    const collection = state.selected;
    $('search-summary').textContent = 'Searching…';
    $('hits').setAttribute('aria-busy', 'true');
    $('search-request-body').textContent = `POST ${collectionPath(collection)}/query\n${prettyJson(body)}`;
    $('search-request').hidden = false;
    const started = performance.now();
    let answer;
    try {
      answer = await api('POST', `${collectionPath(collection)}/query`, body);
    } catch (error) {
      if (seq !== state.searchSeq) return;
      $('hits').removeAttribute('aria-busy');
      $('search-summary').textContent = '';
      clear($('hits'));
      report(error, 'search-error');
      return;
    }
    if (seq !== state.searchSeq) return;
    const elapsed = performance.now() - started;
    renderHits(answer, { mode, using, filtered: Boolean(parsed.filter), elapsed });
  }

  function renderHits(answer, { mode, using, filtered, elapsed }) {
    const hits = clear($('hits'));
    hits.removeAttribute('aria-busy');
    const list = (answer && answer.hits) || [];
    const took = answer && Number.isFinite(answer.took_ms) ? `${answer.took_ms.toFixed(1)} ms on the server` : '';
    $('search-summary').textContent =
      `${plural(list.length, 'hit', 'hits')} · ${mode}${filtered ? ', filtered' : ''} · ` +
      `${took}${took ? ', ' : ''}${elapsed.toFixed(0)} ms in all`;
    const stagesSeen = list.reduce(
      (m, hit) => Math.max(m, ...(hit.explain || []).map((e) => e.stage + 1)),
      0,
    );
    const textField = state.info && state.info.text ? state.info.text.field : 'text';
    list.forEach((hit, index) => {
      const rank = index + 1;
      const head = el(
        'div',
        { class: 'hit-head' },
        el('span', { class: 'hit-rank', 'aria-label': `rank ${rank}` }, `#${rank}`),
        el('span', { class: 'hit-id' }, 'id ', el('code', null, idText(hit.id))),
        el('span', { class: 'hit-score', dataset: { score: String(hit.score) } }, `score ${formatScore(hit.score)}`),
      );
      const item = el('li', { class: 'hit', dataset: { hitId: idText(hit.id) } }, head);
      const main = el('div', { class: 'hit-main' });
      const snippet = hit.payload && hit.payload[textField];
      if (typeof snippet === 'string') main.append(el('p', { class: 'hit-text' }, snippet));
      if (hit.explain && hit.explain.length) {
        const body = el('tbody');
        for (const stage of hit.explain) {
          body.append(
            el(
              'tr',
              { dataset: { stage: String(stage.stage) } },
              el('th', { scope: 'row' }, `${stage.stage}: ${stageLabel(mode, using, stage.stage, stagesSeen)}`),
              el('td', { class: 'num' }, String(stage.rank)),
              el('td', { class: 'num' }, formatScore(stage.score)),
            ),
          );
        }
        main.append(
          el(
            'table',
            { class: 'explain' },
            el('caption', null, 'Explanation'),
            el('thead', null, el('tr', null, ['Stage', 'Rank', 'Score'].map((h) => el('th', { scope: 'col' }, h)))),
            body,
          ),
        );
      }
      item.append(el('div', { class: 'hit-body' }, main, payloadView(hit.payload)));
      hits.append(item);
    });
    if (!list.length) hits.append(el('li', { class: 'empty muted' }, 'No hits.'));
  }

  // ------------------------------------------------------------------ points

  function resetPoints() {
    state.scroll = { cursor: null, next: null, page: 0, shown: 0 };
    clear($('points'));
    $('points-status').textContent = '';
    $('points-next').disabled = true;
    $('points-first').disabled = true;
    showInlineError('points-error', '');
  }

  async function loadPoints(cursor) {
    if (!state.selected || !state.info) return;
    const collection = state.selected;
    const limit = Number.parseInt($('points-limit').value, 10) || 10;
    const body = { limit, with_payload: true, with_vectors: false };
    if (cursor) body.cursor = cursor;
    $('points-next').disabled = true;
    $('points').setAttribute('aria-busy', 'true');
    let answer;
    try {
      answer = await api('POST', `${collectionPath(collection)}/points/scroll`, body);
    } catch (error) {
      $('points').removeAttribute('aria-busy');
      report(error, 'points-error');
      $('points-next').disabled = !state.scroll.next;
      return;
    }
    if (collection !== state.selected) return;
    showInlineError('points-error', '');
    const first = cursor === null;
    const page = first ? 1 : state.scroll.page + 1;
    const before = first ? 0 : state.scroll.shown;
    const points = answer.points || [];
    state.scroll = { cursor, next: answer.next || null, page, shown: before + points.length };
    const list = clear($('points'));
    list.removeAttribute('aria-busy');
    list.start = before + 1;
    for (const point of points) {
      list.append(
        el(
          'li',
          { class: 'point', dataset: { pointId: idText(point.id) } },
          el('div', { class: 'point-head' }, el('span', { class: 'point-id' }, 'id ', el('code', null, idText(point.id)))),
          payloadView(point.payload),
        ),
      );
    }
    if (!points.length) list.append(el('li', { class: 'empty muted' }, 'No points.'));
    const range = points.length ? `points ${humanCount(before + 1)}–${humanCount(before + points.length)}` : 'no points';
    const total = state.info ? ` of ${humanCount(state.info.points)}` : '';
    $('points-status').textContent = `Page ${page}: ${range}${total}${state.scroll.next ? '' : ' · last page'}`;
    $('points-status').dataset.page = String(page);
    $('points-next').disabled = !state.scroll.next;
    $('points-first').disabled = page === 1;
  }

  // ----------------------------------------------------------------- metrics

  /** Prometheus text → [{name, labels, value}]. */
  function parseMetrics(text) {
    const samples = [];
    const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
    const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (const raw of text.split('\n')) {
      const trimmed = raw.trim();
      if (!trimmed || trimmed.startsWith('#')) continue;
      const m = line.exec(trimmed);
      if (!m) continue;
      const labels = {};
      if (m[2]) {
        for (const l of m[2].matchAll(label)) {
          labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
        }
      }
      let value = Number(m[3]);
      if (m[3] === '+Inf') value = Infinity;
      else if (m[3] === '-Inf') value = -Infinity;
      samples.push({ name: m[1], labels, value });
    }
    return samples;
  }

  const sum = (values) => values.reduce((s, v) => s + v, 0);

  function select(samples, name, where = () => true) {
    return samples.filter((s) => s.name === name && where(s.labels));
  }

  /** Merged histogram of `base` over samples matching `where`: {count, sum, buckets: [[le, cumulative]]}. */
  function histogram(samples, base, where = () => true) {
    const buckets = new Map();
    for (const s of select(samples, `${base}_bucket`, where)) {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      buckets.set(le, (buckets.get(le) || 0) + s.value);
    }
    return {
      count: sum(select(samples, `${base}_count`, where).map((s) => s.value)),
      sum: sum(select(samples, `${base}_sum`, where).map((s) => s.value)),
      buckets: [...buckets.entries()].sort((a, b) => a[0] - b[0]),
    };
  }

  /** Histogram difference (now − before), for rates between two polls. */
  function histogramDelta(now, before) {
    if (!before) return now;
    const old = new Map(before.buckets);
    return {
      count: now.count - before.count,
      sum: now.sum - before.sum,
      buckets: now.buckets.map(([le, c]) => [le, c - (old.get(le) || 0)]),
    };
  }

  /** The q-quantile of a histogram, interpolated inside its bucket (as
   * Prometheus' histogram_quantile does). */
  function quantile(h, q) {
    if (!h.count || !h.buckets.length) return NaN;
    const total = h.buckets[h.buckets.length - 1][1] || h.count;
    const rank = q * total;
    let lower = 0;
    let below = 0;
    for (const [le, cumulative] of h.buckets) {
      if (cumulative >= rank) {
        if (le === Infinity) return lower;
        const inBucket = cumulative - below;
        return inBucket > 0 ? lower + ((le - lower) * (rank - below)) / inBucket : le;
      }
      lower = le;
      below = cumulative;
    }
    return lower;
  }

  function stopMetrics() {
    if (state.metricsTimer) clearTimeout(state.metricsTimer);
    state.metricsTimer = null;
  }

  function scheduleMetrics() {
    stopMetrics();
    state.metricsTimer = setTimeout(pollMetrics, METRICS_INTERVAL_MS);
  }

  /** One sample of /metrics, then the next in METRICS_INTERVAL_MS. Only
   * one poll runs at a time; forgetting the key drops an answer in flight. */
  async function pollMetrics() {
    if (state.metricsInFlight) return;
    stopMetrics();
    if (state.keyNeeded) return;
    if (document.hidden) {
      scheduleMetrics();
      return;
    }
    const generation = state.metricsGeneration;
    state.metricsInFlight = true;
    let text;
    try {
      text = await api('GET', '/metrics', undefined, { raw: true });
    } catch (error) {
      if (generation !== state.metricsGeneration) {
        if (!state.keyNeeded) scheduleMetrics();
        return;
      }
      if (error instanceof ApiError && error.status === 401) return;
      report(error, 'metrics-error');
      scheduleMetrics();
      return;
    } finally {
      state.metricsInFlight = false;
    }
    if (generation !== state.metricsGeneration) {
      // The key changed meanwhile: this answer is not shown.
      if (!state.keyNeeded) scheduleMetrics();
      return;
    }
    showInlineError('metrics-error', '');
    const sample = { at: performance.now(), samples: parseMetrics(text) };
    renderMetrics(sample, state.lastSample);
    state.lastSample = sample;
    scheduleMetrics();
  }

  function metricCard(title, value, note, id) {
    return el(
      'div',
      { class: 'card', dataset: id ? { metric: id } : undefined },
      el('h3', null, title),
      el('p', { class: 'card-value' }, value),
      note ? el('p', { class: 'card-note muted small' }, note) : null,
    );
  }

  function renderMetrics(now, before) {
    state.metricsPolls += 1;
    const s = now.samples;
    const seconds = before ? (now.at - before.at) / 1000 : 0;
    const requests = select(s, 'trawl_http_requests_total');
    const totalRequests = sum(requests.map((r) => r.value));
    const byClass = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
    const byStatus = new Map();
    for (const r of requests) {
      const status = r.labels.status || '?';
      byStatus.set(status, (byStatus.get(status) || 0) + r.value);
      const cls = `${status[0]}xx`;
      if (cls in byClass) byClass[cls] += r.value;
    }
    let rate = '';
    if (before && seconds > 0) {
      const previous = sum(select(before.samples, 'trawl_http_requests_total').map((r) => r.value));
      rate = `${((totalRequests - previous) / seconds).toFixed(1)} requests/s since the last sample`;
    }

    const isSearch = (l) => /\/(query|search)(\/batch)?$/.test(l.route || '');
    const searchAll = histogram(s, 'trawl_http_request_duration_seconds', isSearch);
    const searchBefore = before ? histogram(before.samples, 'trawl_http_request_duration_seconds', isSearch) : null;
    const searchRecent = histogramDelta(searchAll, searchBefore);
    const latencyNote = searchAll.count
      ? `p50 ${humanSeconds(quantile(searchAll, 0.5))} · p95 ${humanSeconds(quantile(searchAll, 0.95))} · p99 ${humanSeconds(quantile(searchAll, 0.99))} over ${plural(searchAll.count, 'query', 'queries')}`
      : 'no searches yet';
    const recent = searchRecent.count > 0 && before ? `; ${plural(searchRecent.count, 'query', 'queries')} since the last sample` : '';

    const depth = sum(select(s, 'trawl_embed_queue_depth').map((x) => x.value));
    const embedded = sum(select(s, 'trawl_embed_texts_total').map((x) => x.value));
    const inference = histogram(s, 'trawl_embed_inference_seconds');
    const batchTexts = histogram(s, 'trawl_embed_batch_texts');
    const pending = sum(select(s, 'trawl_operations_pending').map((x) => x.value));
    const damaged = sum(select(s, 'trawl_collections_damaged').map((x) => x.value));
    const rss = select(s, 'process_resident_memory_bytes');
    const collectionRam = sum(select(s, 'trawl_collection_ram_bytes').map((x) => x.value));
    const collectionDisk = sum(select(s, 'trawl_collection_disk_bytes').map((x) => x.value));

    const cards = el(
      'div',
      { class: 'cards' },
      metricCard(
        'Requests',
        humanCount(totalRequests),
        `${Object.entries(byClass)
          .filter(([cls, n]) => n > 0 || cls !== '3xx')
          .map(([cls, n]) => `${cls} ${humanCount(n)}`)
          .join(' · ')}${rate ? `. ${rate}` : ''}`,
        'requests',
      ),
      metricCard(
        'Search latency (mean)',
        searchAll.count ? humanSeconds(searchAll.sum / searchAll.count) : '–',
        `${latencyNote}${recent}`,
        'search-latency',
      ),
      metricCard(
        'Embedding queue',
        humanCount(depth),
        `texts waiting · ${humanCount(embedded)} embedded${
          inference.count ? ` · ${humanSeconds(inference.sum / inference.count)} per batch of ${(batchTexts.sum / Math.max(batchTexts.count, 1)).toFixed(1)} texts on average` : ''
        }`,
        'embed-queue',
      ),
      metricCard(
        'Collections',
        `${humanBytes(collectionRam)} RAM`,
        `${humanBytes(collectionDisk)} on disk · ${plural(pending, 'queued write', 'queued writes')} · ${plural(damaged, 'damaged collection', 'damaged collections')}`,
        'collections',
      ),
    );
    if (rss.length) cards.append(metricCard('Process memory', humanBytes(rss[0].value), 'resident set size', 'process-memory'));

    // Requests by status.
    const statusBody = el('tbody');
    for (const [status, n] of [...byStatus.entries()].sort()) {
      statusBody.append(el('tr', { dataset: { status } }, el('th', { scope: 'row' }, status), el('td', { class: 'num' }, humanCount(n))));
    }
    const statusTable = el(
      'table',
      { class: 'grid-table' },
      el('caption', null, 'Requests by status'),
      el('thead', null, el('tr', null, el('th', { scope: 'col' }, 'Status'), el('th', { scope: 'col' }, 'Requests'))),
      statusBody,
    );

    // Query time by kind of stage.
    const kinds = [...new Set(select(s, 'trawl_query_stage_duration_seconds_count').map((x) => x.labels.kind))].sort();
    const stageBody = el('tbody');
    for (const kind of kinds) {
      const h = histogram(s, 'trawl_query_stage_duration_seconds', (l) => l.kind === kind);
      stageBody.append(
        el(
          'tr',
          null,
          el('th', { scope: 'row' }, kind),
          el('td', { class: 'num' }, humanCount(h.count)),
          el('td', { class: 'num' }, h.count ? humanSeconds(h.sum / h.count) : '–'),
          el('td', { class: 'num' }, h.count ? humanSeconds(quantile(h, 0.95)) : '–'),
        ),
      );
    }
    if (!kinds.length) stageBody.append(el('tr', null, el('td', { colspan: 4, class: 'muted' }, 'no queries yet')));
    const stageTable = el(
      'table',
      { class: 'grid-table' },
      el('caption', null, 'Query time by stage'),
      el('thead', null, el('tr', null, ['Stage', 'Runs', 'Mean', 'p95'].map((h) => el('th', { scope: 'col' }, h)))),
      stageBody,
    );

    // Points by collection.
    const pointsBody = el('tbody');
    for (const p of select(s, 'trawl_collection_points').sort((a, b) => (a.labels.collection < b.labels.collection ? -1 : 1))) {
      const name = p.labels.collection;
      const ram = sum(select(s, 'trawl_collection_ram_bytes', (l) => l.collection === name).map((x) => x.value));
      pointsBody.append(
        el(
          'tr',
          null,
          el('th', { scope: 'row' }, name),
          el('td', { class: 'num' }, humanCount(p.value)),
          el('td', { class: 'num' }, humanBytes(ram)),
        ),
      );
    }
    const pointsTable = el(
      'table',
      { class: 'grid-table' },
      el('caption', null, 'Collections'),
      el('thead', null, el('tr', null, ['Collection', 'Points', 'RAM'].map((h) => el('th', { scope: 'col' }, h)))),
      pointsBody,
    );

    updateListedCounts(s);

    const metrics = clear($('metrics'));
    metrics.dataset.polls = String(state.metricsPolls);
    metrics.dataset.requests = String(totalRequests);
    metrics.append(cards, el('div', { class: 'metric-tables' }, statusTable, stageTable, pointsTable));
    const time = new Date().toLocaleTimeString('en-GB');
    $('metrics-status').textContent = `Updated at ${time} (sample ${state.metricsPolls}, every ${METRICS_INTERVAL_MS / 1000} s)`;
  }

  /** Keeps the point counts in the collection list live, from the metrics. */
  function updateListedCounts(samples) {
    const counts = new Map(select(samples, 'trawl_collection_points').map((p) => [p.labels.collection, p.value]));
    for (const button of document.querySelectorAll('#collection-list button.collection:not(.damaged)')) {
      const points = counts.get(button.dataset.collection);
      const meta = button.querySelector('.collection-meta');
      if (points === undefined || !meta || meta.dataset.points === String(points)) continue;
      meta.dataset.points = String(points);
      meta.textContent = plural(points, 'point', 'points');
      const summary = state.collections.find((c) => c.name === button.dataset.collection);
      if (summary) summary.points = points;
    }
  }

  // ------------------------------------------------------------------- start

  async function start() {
    hideBanner();
    checkReady();
    await refreshCollections();
    if (!state.keyNeeded) pollMetrics();
  }

  function init() {
    updateKeyControls();
    configureSearch(null);
    resetPoints();

    $('key-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const key = $('key-input').value.trim();
      if (key) useKey(key);
    });
    $('forget-key').addEventListener('click', forgetKey);
    $('banner-close').addEventListener('click', hideBanner);
    $('refresh-collections').addEventListener('click', () => refreshCollections());
    $('details-refresh').addEventListener('click', () => {
      if (state.selected) selectCollection(state.selected, { keepView: true });
    });

    for (const tab of TABS) $(`tab-${tab}`).addEventListener('click', () => showTab(tab));
    document.querySelector('[role="tablist"]').addEventListener('keydown', onTabKey);

    $('search-form').addEventListener('submit', runSearch);
    $('search-mode').addEventListener('change', updateUsingVisibility);
    $('search-filter').addEventListener('input', () => {
      if ($('search-filter').hasAttribute('aria-invalid')) parseFilter();
    });

    $('points-next').addEventListener('click', () => {
      if (state.scroll.next) loadPoints(state.scroll.next);
    });
    $('points-first').addEventListener('click', () => loadPoints(null));
    $('points-limit').addEventListener('change', () => loadPoints(null));

    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && !state.keyNeeded) pollMetrics();
    });
    setInterval(checkReady, READY_INTERVAL_MS);

    start();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
