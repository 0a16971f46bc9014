"""The gallery's one HTML page: inline style, a search box and copy buttons in plain JavaScript."""
from __future__ import annotations

import html
from typing import Any, Sequence

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d232a;background:#f4f5f7}
header{position:sticky;top:0;z-index:2;background:#1d3557;color:#fff;padding:12px 24px;display:flex;gap:18px;
  align-items:center;flex-wrap:wrap}
header h1{font-size:18px;margin:0}
#search{flex:1;min-width:260px;max-width:520px;font-size:15px;padding:7px 10px;border-radius:6px;border:0}
#count{opacity:.85}
nav{padding:8px 24px;background:#e6e9ef;display:flex;gap:14px;flex-wrap:wrap}
nav a{color:#1d3557}
main{padding:8px 24px 40px}
section>h2{margin:22px 0 4px;font-size:20px}
section>p.meta{margin:0 0 10px;color:#555}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:14px}
article{background:#fff;border-radius:8px;padding:12px 14px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
article h3{margin:0 0 2px;font-size:16px}
article .kind{font-size:12px;color:#fff;background:#457b9d;border-radius:4px;padding:1px 6px;margin-left:6px}
article .kind.preset{background:#2a9d8f}
article p{margin:4px 0}
figure{margin:8px 0}
figure img{max-width:100%;border:1px solid #ddd;border-radius:4px;display:block}
figcaption{font-size:12px;color:#666}
.spec{display:flex;gap:6px;align-items:center;margin:6px 0}
.spec code{flex:1;background:#f0f2f5;padding:4px 6px;border-radius:4px;overflow-x:auto;white-space:nowrap}
.spec button{cursor:pointer;border:1px solid #1d3557;background:#fff;color:#1d3557;border-radius:4px;padding:3px 8px}
details summary{cursor:pointer;color:#1d3557}
table{border-collapse:collapse;width:100%;font-size:12.5px;margin-top:4px}
th,td{text-align:left;border-bottom:1px solid #eee;padding:3px 6px;vertical-align:top}
td code{white-space:nowrap}
.note{color:#7a4b00}
.error{color:#b00020;font-weight:600}
.meta{color:#555;font-size:12.5px}
"""

SCRIPT = """
(function () {
  var box = document.getElementById('search'), count = document.getElementById('count');
  var cards = Array.prototype.slice.call(document.querySelectorAll('article'));
  function filter() {
    var words = box.value.toLowerCase().split(/\\s+/).filter(Boolean), shown = 0;
    cards.forEach(function (card) {
      var text = card.getAttribute('data-search');
      var hit = words.every(function (w) { return text.indexOf(w) >= 0; });
      card.hidden = !hit; if (hit) { shown += 1; }
    });
    document.querySelectorAll('section').forEach(function (s) {
      s.hidden = !s.querySelector('article:not([hidden])');
    });
    count.textContent = shown + ' of ' + cards.length + ' shown';
    document.body.setAttribute('data-shown', String(shown));
  }
  box.addEventListener('input', filter);
  var query = new URLSearchParams(window.location.search).get('q');
  if (query) { box.value = query; }
  filter();
  document.querySelectorAll('button[data-copy]').forEach(function (b) {
    b.addEventListener('click', function () {
      var text = b.getAttribute('data-copy');
      var done = function () { b.textContent = 'copied'; setTimeout(function () { b.textContent = 'copy'; }, 1200); };
      if (navigator.clipboard) { navigator.clipboard.writeText(text).then(done, done); } else { done(); }
    });
  });
  window.addEventListener('load', function () {  // for tests: how many of the images actually loaded
    var images = Array.prototype.slice.call(document.images);
    var ok = images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
    document.body.setAttribute('data-images', ok + '/' + images.length);
  });
})();
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _card(entry: Any) -> str:
    search = " ".join([entry.name, entry.plugin, entry.kind, entry.summary or "", entry.distribution or "",
                       " ".join(p["name"] for p in entry.params)]).lower()
    parts = [f'<article id="{esc(entry.plugin)}-{esc(entry.name)}" data-search="{esc(search)}">',
             f'<h3>{esc(entry.name)}<span class="kind {esc(entry.kind)}">{esc(entry.kind)}</span></h3>']
    if entry.summary:
        parts.append(f"<p>{esc(entry.summary)}</p>")
    origin = entry.plugin + (f" · {entry.distribution} {entry.version or ''}" if entry.distribution else "")
    parts.append(f'<p class="meta">plugin {esc(origin.strip())}</p>')
    parts.append(f'<div class="spec"><code>{esc(entry.spec)}</code>'
                 f'<button type="button" data-copy="{esc(entry.spec)}">copy</button></div>')
    for path, caption in entry.images:
        parts.append(f'<figure><img src="{esc(path)}" alt="{esc(entry.name)}: {esc(caption)}">'
                     f"<figcaption>{esc(caption)}</figcaption></figure>")
    for note in entry.notes:
        parts.append(f'<p class="note">{esc(note)}</p>')
    if entry.error:
        parts.append(f'<p class="error">could not be drawn: {esc(entry.error)}</p>')
    if entry.params:
        rows = "".join(f"<tr><td><code>{esc(p['name'])}</code></td><td><code>{esc(p['default'])}</code></td>"
                       f"<td>{esc(p['allowed'])}</td><td>{esc(p['doc'])}</td></tr>" for p in entry.params)
        counted = f"{len(entry.params)} parameter" + ("s" if len(entry.params) != 1 else "")
        parts.append(f"<details><summary>{counted}</summary><table><tr><th>name</th>"
                     f"<th>default</th><th>allowed</th><th>doc</th></tr>{rows}</table></details>")
    if entry.doc and entry.doc != entry.summary:
        parts.append(f"<details><summary>documentation</summary><p>{esc(entry.doc)}</p></details>")
    parts.append("</article>")
    return "\n".join(parts)


def render_page(sections: Sequence[dict], seed: int, has_boxes: bool, draws: int) -> str:
    """The whole page: one section per plugin, one card per transform or preset."""
    total = sum(len(s["entries"]) for s in sections)
    nav = " ".join(f'<a href="#plugin-{esc(s["plugin"])}">{esc(s["plugin"])} ({len(s["entries"])})</a>'
                   for s in sections)
    body = []
    for s in sections:
        transforms = sum(e.kind == "transform" for e in s["entries"])
        presets = len(s["entries"]) - transforms
        origin = f"{s['distribution']} {s['version'] or ''}".strip() if s["distribution"] else "registered by hand"
        body.append(f'<section id="plugin-{esc(s["plugin"])}"><h2>{esc(s["plugin"])}</h2>'
                    f'<p class="meta">{esc(origin)} · {transforms} transforms, {presets} presets</p>'
                    f'<div class="cards">' + "\n".join(_card(e) for e in s["entries"]) + "</div></section>")
    boxes = ("" if has_boxes else " The VOC cat's boxes are not shown: run with --voc DIR.")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gluon-augplug gallery: {total} transforms and presets</title>
<style>{STYLE}</style></head>
<body data-shown="{total}">
<header><h1>gluon-augplug gallery</h1>
<input id="search" type="search" placeholder="Search transforms, plugins, parameters" autofocus>
<span id="count">{total} of {total} shown</span></header>
<nav>{nav}</nav>
<main><p class="meta">Every installed transform and preset, each drawn {draws} times on the chapter's cat photo at its
example parameters with seed {seed}; the ones that move targets also on the VOC cat with its boxes.{boxes}
Copy a spec into <code>build_pipeline</code>, a spec file or <code>augplug train --train-aug</code>.</p>
{''.join(body)}
</main>
<script>{SCRIPT}</script>
</body></html>
"""
