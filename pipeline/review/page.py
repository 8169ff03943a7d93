"""The review page: one self-contained HTML file (no server, no network: a Content-Security-
Policy forbids every request) for reviewing suggestions with the keyboard.

Decisions live in the browser's ``localStorage`` under ``qda-review:<run fingerprint>`` and
are downloaded as CSV or JSON for ``qda review import``; both downloads carry the fingerprint.
A code the run missed on a unit can be added there (``E``): it is downloaded as an ``accept``
of that unit and code, a positive example like any accepted suggestion.
"""

from __future__ import annotations

import html
import json

from pipeline.review.run import ReviewRun
from pipeline.review.suggestions import Suggestions

CSS = """
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d1d1f;line-height:1.45;background:#f6f8fb}
header{background:#21416b;color:#fff;padding:.8rem 1.5rem}header h1{margin:0 0 .3rem;font-size:1.3rem}
header dl{display:grid;grid-template-columns:max-content 1fr;gap:.05rem 1rem;margin:.2rem 0 0;font-size:.82rem}header dt{opacity:.75}header dd{margin:0}
.bar{display:flex;flex-wrap:wrap;gap:.6rem 1rem;align-items:center;padding:.5rem 1.5rem;background:#eef2f7;font-size:.88rem;border-bottom:1px solid #d0d7e2}
.bar input{font:inherit;padding:.15rem .4rem}#progress{font-weight:600}
button{font:inherit;padding:.3rem .7rem;border:1px solid #9aa8bd;border-radius:4px;background:#fff;cursor:pointer}button:hover{background:#e8eef7}
kbd{font-family:ui-monospace,monospace;font-size:.78rem;border:1px solid #b8c2d0;border-bottom-width:2px;border-radius:3px;padding:0 .25rem;background:#fff;color:#1d1d1f}
main{display:grid;grid-template-columns:minmax(0,6fr) minmax(0,5fr);gap:1rem;padding:1rem 1.5rem}
#card{background:#fff;border:1px solid #d0d7e2;border-radius:6px;padding:1rem 1.2rem}
.meta{font-size:.82rem;color:#555;display:flex;flex-wrap:wrap;gap:.3rem .8rem}.meta b{color:#1d1d1f}
.badge{display:inline-block;padding:0 .45rem;border-radius:9px;font-size:.75rem;font-weight:600;background:#e3e9f2}
.badge.missed{background:#ffe1b3}.context{margin:.6rem 0;padding:.4rem .7rem;border-left:3px solid #c7d2e3;color:#555;font-size:.88rem;white-space:pre-wrap}
.text{font-size:1.05rem;white-space:pre-wrap;margin:.6rem 0}mark{background:#ffe58a;padding:0 .1rem;border-radius:2px;font-weight:600}
.code{margin:.8rem 0 .3rem;font-size:1rem}.code code{font-size:1.05rem;font-weight:700;color:#21416b}.definition{font-size:.85rem;color:#444;margin:.2rem 0 .6rem}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.6rem}.actions .accept{border-color:#2e7d32}.actions .reject{border-color:#c62828}
#status{margin-top:.5rem;font-weight:600;min-height:1.4em}#status.accept{color:#2e7d32}#status.reject{color:#c62828}#status.other{color:#8a5a00}
#other-box{display:none;margin-top:.6rem}#other-box.open{display:block}#other-box input{width:24rem;max-width:100%;font:inherit;padding:.2rem .4rem}
#other-msg{font-size:.82rem;color:#8a5a00}#added{margin-top:.5rem;font-size:.88rem}#added:empty{display:none}
#added button{padding:.05rem .45rem;margin:0 .3rem .2rem 0;border-color:#2e7d32;font-size:.85rem}#comment{width:100%;font:inherit;padding:.25rem .4rem;margin-top:.6rem}
aside{background:#fff;border:1px solid #d0d7e2;border-radius:6px;max-height:calc(100vh - 9rem);overflow:auto}
table{border-collapse:collapse;width:100%;font-size:.8rem;table-layout:fixed}
th,td{padding:.2rem .45rem;border-bottom:1px solid #e6eaf0;text-align:left;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
col.nr{width:2.9rem}col.score{width:3.6rem}col.dec{width:7.9rem}td.missed{color:#8a5a00}
th{position:sticky;top:0;background:#f3f6fa}tr{cursor:pointer}tr.current td{background:#dbe7fb}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.accept td:last-child{color:#2e7d32;font-weight:600}tr.reject td:last-child{color:#c62828;font-weight:600}tr.other td:last-child{color:#8a5a00;font-weight:600}
.keys{font-size:.8rem;color:#444;padding:0 1.5rem 1rem}.warn{color:#b00020;font-weight:600}
"""

JS = r"""
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('review-data').textContent);
  var rows = data.rows, codes = data.codes;
  var byId = {};
  codes.forEach(function (c) { byId[c.id] = c; });
  var KEY = 'qda-review:' + data.run;
  var LABEL = {accept: 'angenommen', reject: 'abgelehnt', other: 'anderer Code'};
  var state = {decisions: {}, reviewer: '', pos: 0};
  var storageOk = true;
  try {
    var saved = JSON.parse(window.localStorage.getItem(KEY) || 'null');
    if (saved && saved.decisions) { state = saved; }
  } catch (e) { storageOk = false; }
  var pos = Math.max(0, Math.min(state.pos || 0, rows.length - 1));
  var $ = function (id) { return document.getElementById(id); };

  function key(r) { return r.segment_id + '\t' + r.code; }
  function entry(r) { return state.decisions[key(r)] || null; }
  function save() {
    state.pos = pos;
    try { window.localStorage.setItem(KEY, JSON.stringify(state)); storageOk = true; } catch (e) { storageOk = false; }
  }

  function markedText(el, text, spans) {
    el.textContent = '';
    var at = 0;
    spans.forEach(function (s) {
      if (s[0] > at) { el.appendChild(document.createTextNode(text.slice(at, s[0]))); }
      var m = document.createElement('mark');
      m.textContent = text.slice(s[0], s[1]);
      el.appendChild(m);
      at = s[1];
    });
    if (at < text.length) { el.appendChild(document.createTextNode(text.slice(at))); }
  }

  function describe(e) {
    if (!e || !e.decision) { return ''; }
    return LABEL[e.decision] + (e.decision === 'other' ? ': ' + e.corrected_code : '');
  }

  // codes a reviewer added to a unit: decisions on (unit, code) pairs that are no row
  var suggested = {};
  rows.forEach(function (r) { suggested[key(r)] = true; });
  function addedFor(unit) {
    return Object.keys(state.decisions).filter(function (k) {
      return !suggested[k] && k.split('\t')[0] === unit && state.decisions[k].decision === 'accept';
    }).map(function (k) { return k.split('\t')[1]; }).sort();
  }

  function renderAdded(unit) {
    var box = $('added');
    box.textContent = '';
    var codesAdded = addedFor(unit);
    if (!codesAdded.length) { return; }
    box.appendChild(document.createTextNode('Ergänzt (Klick entfernt): '));
    codesAdded.forEach(function (c) {
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'added-code';
      b.textContent = '× ' + c;
      b.addEventListener('click', function () { delete state.decisions[unit + '\t' + c]; save(); renderAdded(unit); renderProgress(); });
      box.appendChild(b);
    });
  }

  function renderCard() {
    var r = rows[pos];
    if (!r) { $('card').textContent = 'Keine Vorschläge in dieser Datei.'; return; }
    $('c-nr').textContent = r.nr + ' / ' + rows.length;
    $('c-unit').textContent = r.segment_id;
    $('c-doc').textContent = r.document;
    $('c-speaker').textContent = r.speaker || '–';
    var badge = $('c-suggestion');
    badge.textContent = r.suggestion === 'coded' ? 'kodiert' : 'fehlt? (knapp unter der Schwelle)';
    badge.className = 'badge' + (r.suggestion === 'coded' ? '' : ' missed');
    $('c-score').textContent = 'Score ' + r.score.toFixed(2) + (r.threshold === null ? '' : ' · Schwelle ' + r.threshold.toFixed(2)) + ' · ' + r.method;
    $('c-context').textContent = r.context;
    $('c-context').style.display = r.context ? '' : 'none';
    markedText($('c-text'), r.text, r.spans);
    $('c-code').textContent = r.code;
    $('c-label').textContent = r.label ? ' – ' + r.label : '';
    $('c-def').textContent = (byId[r.code] || {}).definition || '';
    var e = entry(r);
    var st = $('status');
    st.textContent = e && e.decision ? 'Entscheidung: ' + describe(e) : 'noch offen';
    st.className = e && e.decision ? e.decision : '';
    $('comment').value = e ? (e.comment || '') : '';
    renderAdded(r.segment_id);
  }

  function renderRow(i) {
    var tr = $('list-body').children[i];
    var e = entry(rows[i]);
    tr.className = (e && e.decision ? e.decision : '') + (i === pos ? ' current' : '');
    var shown = e && e.decision ? (e.decision === 'other' ? '→ ' + e.corrected_code : LABEL[e.decision]) : '';
    tr.lastChild.textContent = shown;
    tr.lastChild.title = shown;
  }

  function renderProgress() {
    var n = {accept: 0, reject: 0, other: 0}, comments = 0, added = 0;
    Object.keys(state.decisions).forEach(function (k) {
      var e = state.decisions[k];
      if (!suggested[k]) { if (e.decision) { added += 1; } return; }
      if (e.decision) { n[e.decision] += 1; } else if (e.comment) { comments += 1; }
    });
    var done = n.accept + n.reject + n.other;
    var text = done + ' von ' + rows.length + ' entschieden · ' + n.accept + ' angenommen · ' + n.reject + ' abgelehnt · ' + n.other + ' anderer Code';
    if (added) { text += ' · ' + added + ' ergänzt'; }
    if (comments) { text += ' · ' + comments + ' Kommentar(e) ohne Entscheidung (werden nicht exportiert)'; }
    $('progress').textContent = text;
    $('storage-warning').style.display = storageOk ? 'none' : '';
  }

  function go(i) {
    if (!rows.length) { return; }
    var old = pos;
    pos = Math.max(0, Math.min(i, rows.length - 1));
    renderRow(old);
    renderRow(pos);
    renderCard();
    save();
    $('list-body').children[pos].scrollIntoView({block: 'nearest'});
  }

  function update(r, fields) {
    var e = state.decisions[key(r)] || {decision: '', corrected_code: '', comment: '', decided_at: ''};
    Object.keys(fields).forEach(function (f) { e[f] = fields[f]; });
    if (!e.decision && !e.comment) { delete state.decisions[key(r)]; } else { state.decisions[key(r)] = e; }
    save();
  }

  function decide(decision, corrected) {
    var r = rows[pos];
    if (!r) { return; }
    update(r, {decision: decision, corrected_code: corrected || '', decided_at: new Date().toISOString()});
    renderRow(pos);
    renderProgress();
    go(pos + 1);
  }

  function clearDecision() {
    var r = rows[pos];
    if (!r) { return; }
    update(r, {decision: '', corrected_code: '', decided_at: ''});
    renderRow(pos);
    renderCard();
    renderProgress();
  }

  function nextOpen() {
    for (var i = pos + 1; i < rows.length; i++) {
      var e = entry(rows[i]);
      if (!e || !e.decision) { go(i); return; }
    }
  }

  function resolveCode(text) {
    var t = text.trim().toLowerCase();
    if (!t) { return {error: 'Bitte eine Code-ID eingeben.'}; }
    if (byId[text.trim()]) { return {code: text.trim()}; }
    var hits = codes.filter(function (c) { return c.id.toLowerCase().indexOf(t) >= 0 || (c.label || '').toLowerCase().indexOf(t) >= 0; });
    if (hits.length === 1) { return {code: hits[0].id}; }
    if (!hits.length) { return {error: 'Kein Code passt zu „' + text + '“.'}; }
    return {error: 'Mehrdeutig: ' + hits.slice(0, 6).map(function (c) { return c.id; }).join(', ') + (hits.length > 6 ? ' …' : '')};
  }

  var boxMode = 'other';  // the code box serves "another code" (O) and "add a missed code" (E)
  function startOther() { openBox('other', 'Richtiger Code'); }
  function startAdd() { openBox('add', 'Fehlender Code für diese Einheit'); }
  function openBox(mode, title) {
    boxMode = mode;
    $('other-title').textContent = title;
    $('other-box').className = 'open';
    $('other-msg').textContent = '';
    var input = $('other-code');
    input.value = '';
    input.focus();
  }

  function stopOther() { $('other-box').className = ''; }

  function confirmOther() {
    var r = rows[pos];
    var res = resolveCode($('other-code').value);
    if (res.code && boxMode === 'other' && res.code === r.code) { res = {error: 'Das ist der vorgeschlagene Code: dann annehmen (A).'}; }
    if (res.code && boxMode === 'add' && suggested[r.segment_id + '\t' + res.code]) {
      res = {error: 'Dieser Code ist für diese Einheit schon vorgeschlagen: dort entscheiden.'};
    }
    if (res.error) { $('other-msg').textContent = res.error; return; }
    stopOther();
    $('other-code').blur();
    if (boxMode === 'other') { decide('other', res.code); return; }
    state.decisions[r.segment_id + '\t' + res.code] = {decision: 'accept', corrected_code: '', comment: '', decided_at: new Date().toISOString()};
    save();
    renderAdded(r.segment_id);
    renderProgress();
  }

  function decisionsOut() {
    var out = [];
    rows.forEach(function (r) {
      var e = entry(r);
      if (e && e.decision) {
        out.push({segment_id: r.segment_id, code: r.code, decision: e.decision, corrected_code: e.corrected_code || '',
                  comment: e.comment || '', reviewer: state.reviewer || '', decided_at: e.decided_at || ''});
      }
    });
    Object.keys(state.decisions).sort().forEach(function (k) {  // codes the reviewer added
      var e = state.decisions[k];
      if (suggested[k] || e.decision !== 'accept') { return; }
      var parts = k.split('\t');
      out.push({segment_id: parts[0], code: parts[1], decision: 'accept', corrected_code: '', comment: e.comment || '',
                reviewer: state.reviewer || '', decided_at: e.decided_at || ''});
    });
    return out;
  }

  function download(name, mime, text) {
    var a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], {type: mime}));
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  var COLS = ['segment_id', 'code', 'decision', 'corrected_code', 'comment', 'reviewer', 'decided_at', 'run'];
  function csvCell(v) { return '"' + String(v).replace(/"/g, '""') + '"'; }
  function downloadCsv() {
    var lines = [COLS.join(',')];
    decisionsOut().forEach(function (d) {
      d.run = data.run;
      lines.push(COLS.map(function (c) { return csvCell(d[c]); }).join(','));
    });
    download('entscheidungen-' + data.run.slice(0, 8) + '.csv', 'text/csv;charset=utf-8', '\ufeff' + lines.join('\r\n') + '\r\n');
  }
  function downloadJson() {
    var doc = {format: 'qda-review-decisions', version: 1, run: data.run, decisions: decisionsOut()};
    download('entscheidungen-' + data.run.slice(0, 8) + '.json', 'application/json', JSON.stringify(doc, null, 1) + '\n');
  }

  function buildList() {
    var body = $('list-body');
    rows.forEach(function (r, i) {
      var tr = document.createElement('tr');
      var code = r.suggestion === 'coded' ? r.code : r.code + ' (fehlt?)';
      [String(r.nr), r.segment_id, code, r.score.toFixed(2), ''].forEach(function (v, j) {
        var td = document.createElement('td');
        td.textContent = v;
        td.title = v;
        if (j === 0 || j === 3) { td.className = 'num'; }
        if (j === 2 && r.suggestion !== 'coded') { td.className = 'missed'; }
        tr.appendChild(td);
      });
      tr.addEventListener('click', function () { go(i); });
      body.appendChild(tr);
    });
    rows.forEach(function (_, i) { renderRow(i); });
  }

  document.addEventListener('keydown', function (ev) {
    var t = ev.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT')) {
      if (ev.key === 'Escape') { t.blur(); stopOther(); ev.preventDefault(); }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    switch (ev.key) {
      case 'a': case '1': decide('accept'); break;
      case 'r': case '2': decide('reject'); break;
      case 'o': case '3': startOther(); break;
      case 'e': case '+': startAdd(); break;
      case 'j': case 'n': case 'ArrowDown': go(pos + 1); break;
      case 'k': case 'p': case 'ArrowUp': go(pos - 1); break;
      case ' ': nextOpen(); break;
      case 'u': case 'Backspace': case 'Delete': clearDecision(); break;
      case 'c': $('comment').focus(); break;
      default: return;
    }
    ev.preventDefault();
  });
  $('other-code').addEventListener('keydown', function (ev) { if (ev.key === 'Enter') { ev.preventDefault(); confirmOther(); } });
  $('comment').addEventListener('input', function () { update(rows[pos], {comment: $('comment').value}); renderProgress(); });
  $('comment').addEventListener('keydown', function (ev) { if (ev.key === 'Enter') { ev.preventDefault(); $('comment').blur(); } });
  $('reviewer').value = state.reviewer || '';
  $('reviewer').addEventListener('input', function () { state.reviewer = $('reviewer').value; save(); });
  $('btn-accept').addEventListener('click', function () { decide('accept'); });
  $('btn-reject').addEventListener('click', function () { decide('reject'); });
  $('btn-other').addEventListener('click', startOther);
  $('btn-add').addEventListener('click', startAdd);
  $('btn-other-ok').addEventListener('click', confirmOther);
  $('btn-prev').addEventListener('click', function () { go(pos - 1); });
  $('btn-next').addEventListener('click', function () { go(pos + 1); });
  $('btn-clear').addEventListener('click', clearDecision);
  $('dl-csv').addEventListener('click', downloadCsv);
  $('dl-json').addEventListener('click', downloadJson);
  buildList();
  renderCard();
  renderProgress();
  if (rows.length) { $('list-body').children[pos].scrollIntoView({block: 'nearest'}); }
}());
"""

BODY = """<header><h1>Durchsicht der Kodiervorschläge</h1><dl>{facts}</dl></header>
<div class="bar"><span id="progress"></span>
<label>Name (optional) <input id="reviewer" size="14" autocomplete="off"></label>
<button id="dl-csv" type="button">Entscheidungen als CSV</button><button id="dl-json" type="button">als JSON</button>
<span class="warn" id="storage-warning" style="display:none">Der Browser speichert nichts (localStorage gesperrt): vor dem Schließen herunterladen!</span></div>
<main><section id="card">
<div class="meta"><b id="c-nr"></b><span>Einheit <b id="c-unit"></b></span><span>Dokument <span id="c-doc"></span></span>
<span>Sprecher:in <span id="c-speaker"></span></span><span class="badge" id="c-suggestion"></span><span id="c-score"></span></div>
<div class="context" id="c-context"></div><div class="text" id="c-text"></div>
<div class="code">Vorschlag: <code id="c-code"></code><span id="c-label"></span></div><div class="definition" id="c-def"></div>
<div class="actions"><button class="accept" id="btn-accept" type="button"><kbd>A</kbd> annehmen</button>
<button class="reject" id="btn-reject" type="button"><kbd>R</kbd> ablehnen</button>
<button id="btn-other" type="button"><kbd>O</kbd> anderer Code</button><button id="btn-add" type="button"><kbd>E</kbd> Code ergänzen</button>
<button id="btn-clear" type="button"><kbd>U</kbd> zurücksetzen</button>
<button id="btn-prev" type="button"><kbd>K</kbd> zurück</button><button id="btn-next" type="button"><kbd>J</kbd> weiter</button></div>
<div id="other-box"><label><span id="other-title">Richtiger Code</span> (ID oder Teil davon, <kbd>Enter</kbd>): <input id="other-code" list="code-list" autocomplete="off"></label>
<button id="btn-other-ok" type="button">übernehmen</button><div id="other-msg"></div></div><div id="added"></div>
<input id="comment" placeholder="Kommentar (C), Enter zum Verlassen" autocomplete="off">
<div id="status"></div></section>
<aside><table><colgroup><col class="nr"><col><col><col class="score"><col class="dec"></colgroup>
<thead><tr><th>Nr.</th><th>Einheit</th><th>Code</th><th>Score</th><th>Entscheidung</th></tr></thead>
<tbody id="list-body"></tbody></table></aside></main>
<p class="keys">Tastatur: <kbd>A</kbd>/<kbd>1</kbd> annehmen · <kbd>R</kbd>/<kbd>2</kbd> ablehnen · <kbd>O</kbd>/<kbd>3</kbd> anderer Code ·
<kbd>E</kbd>/<kbd>+</kbd> einen übersehenen Code der Einheit ergänzen ·
<kbd>J</kbd>/<kbd>↓</kbd> weiter · <kbd>K</kbd>/<kbd>↑</kbd> zurück · <kbd>Leertaste</kbd> nächster offener · <kbd>U</kbd> zurücksetzen ·
<kbd>C</kbd> Kommentar · <kbd>Esc</kbd> Eingabe verlassen. Die Entscheidungen bleiben in diesem Browser gespeichert; zum Einlesen
herunterladen und <code>{import_cmd}</code>.</p>
<datalist id="code-list">{options}</datalist>"""

CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"


def _utf16(text: str, offset: int) -> int:
    """A code-point offset as the UTF-16 offset JavaScript strings use."""
    return len(text[:offset].encode("utf-16-le")) // 2


def page_data(run: ReviewRun, sug: Suggestions) -> dict:
    """What the page shows, as one JSON document."""
    rows = []
    for r in sug.table.itertuples(index=False):
        rows.append({
            "nr": int(r.nr), "segment_id": r.segment_id, "document": r.document, "speaker": r.speaker, "context": r.context,
            "text": r.text, "spans": [[_utf16(r.text, s), _utf16(r.text, e)] for s, e in r.spans], "code": r.code, "label": r.label,
            "suggestion": r.suggestion, "score": float(r.score), "threshold": None if r.threshold != r.threshold else float(r.threshold),
            "method": r.method,
        })
    codes = [{"id": c.id, "label": c.label, "dimension": c.dimension, "definition": c.definition} for c in run.codes]
    return {"run": run.fingerprint, "rows": rows, "codes": codes}


def render_review_page(run: ReviewRun, sug: Suggestions) -> str:
    """The whole page as a string."""
    cb = run.codebook
    counts = sug.table["suggestion"].value_counts()
    facts = [
        ("Lauf", str(run.folder)),
        ("Kodierleitfaden", f"{cb.get('name', '?')} {cb.get('version', '')}"),
        ("Vorschläge", f"{len(sug.table)} ({int(counts.get('coded', 0))} kodiert, {int(counts.get('missed?', 0))} knapp unter der Schwelle)"),
        ("Reihenfolge", sug.note),
        ("Fingerabdruck", run.fingerprint),
    ]
    dl = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts)
    options = "".join(f'<option value="{html.escape(c.id)}">{html.escape(c.label)}</option>' for c in run.codes)
    payload = json.dumps(page_data(run, sug), ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    body = BODY.format(facts=dl, options=options, import_cmd=html.escape(f"qda review import {run.folder} entscheidungen-{run.fingerprint[:8]}.csv"))
    return (f'<!DOCTYPE html>\n<html lang="de"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>Durchsicht – {html.escape(str(cb.get("name", "qda")))}</title>'
            f"<style>{CSS}</style></head><body>\n{body}\n"
            f'<script type="application/json" id="review-data">{payload}</script>\n<script>{JS}</script></body></html>\n')
