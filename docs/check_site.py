#!/usr/bin/env python3
"""Check solarnb's website and notebooks in a real browser (Playwright driving Debian's chromium).

    python docs/check_site.py                     # both parts: the built site, then every notebook in JupyterLab
    python docs/check_site.py --site-only         # crawl docs/_build/html only (build it first: python docs/build.py)
    python docs/check_site.py --lab-only index 02_limb   # JupyterLab part, these notebooks only
    python docs/check_site.py --site-only --serve # just serve the site on 127.0.0.1 until Ctrl-C

Site part: serves the built site on 127.0.0.1 and opens every page reachable from the index (notebook pages,
source pages, search); fails on a broken internal link (a missing page or file, or a `#fragment` the target
page does not have), a console error or uncaught page error, a failed request, or any request to a host
other than 127.0.0.1 (those are blocked and reported).

JupyterLab part: copies the notebooks to a temporary folder (so nothing is saved into `nbs/`; `example_data`,
`settings.ini`, `solarnb` and `docs` are linked), starts JupyterLab on 127.0.0.1 with a token, opens each
notebook, runs its cells in order (cells flagged with settings.ini's `tst_flags`, `#| eval: false` and
`nbdev_export()` cells are skipped, as the test suite does), fails on any error output; then drives every
widget (moves each slider both ways step by step, picks another option of each dropdown, toggles each
checkbox, presses toggle buttons) and fails on any error that appears. Every server and kernel it started is stopped at the end.

Needs `pip install playwright` (never `playwright install`: it uses /usr/bin/chromium; on Debian
`apt-get install -y chromium`). Slow (minutes per notebook on a small machine): not part of CI.
"""
from __future__ import annotations
import argparse, configparser, contextlib, functools, http.server, json, os, re, secrets, shutil, socket
import subprocess, sys, tempfile, threading, time, urllib.parse, urllib.request
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
NBS = ROOT/'nbs'
CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
CHROME_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
               '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage']

def log(*a): print(*a, flush=True)

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

@contextlib.contextmanager
def browser():
    "A headless chromium (Debian's) under Playwright, with a throw-away profile."
    from playwright.sync_api import sync_playwright
    if not Path(CHROMIUM).exists(): sys.exit(f'{CHROMIUM} not found: apt-get update && apt-get install -y chromium')
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROME_ARGS)
        try: yield b
        finally: b.close()

def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or ''

def guard(context, outside: list):
    "Block and record every request to a host other than 127.0.0.1."
    def route(r):
        u = r.request.url
        if u.startswith(('data:', 'blob:', 'about:')) or _host(u) == '127.0.0.1': return r.continue_()
        outside.append(u)
        return r.abort()
    context.route('**/*', route)

# ----------------------------------------------------------------------------------------------------------
# site

@contextlib.contextmanager
def serve(folder: Path, port: int = 0):
    "Serve `folder` on 127.0.0.1 in a thread; yield the base URL."
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    h = functools.partial(Quiet, directory=str(folder))
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', port), h)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try: yield f'http://127.0.0.1:{srv.server_address[1]}/'
    finally:
        srv.shutdown(); srv.server_close()

_IDS_JS = "() => Array.from(document.querySelectorAll('[id],a[name]')).map(e => e.id || e.getAttribute('name'))"
_LINKS_JS = """() => Array.from(document.querySelectorAll('a[href], link[href], img[src], script[src]'))
    .map(e => [e.tagName, e.getAttribute('href') !== null ? e.href : e.src])"""

def check_site(site: Path, max_pages: int = 2000) -> int:
    "Crawl the site from index.html; return the number of problems (printed)."
    if not (site/'index.html').exists(): sys.exit(f'{site}/index.html not found: build the site first (python docs/build.py)')
    problems, outside = [], []
    t0 = time.time()
    with serve(site) as base, browser() as b:
        ctx = b.new_context()
        guard(ctx, outside)
        page = ctx.new_page()
        current = {'url': ''}
        page.on('console', lambda m: m.type == 'error' and problems.append(f'console error on {current["url"]}: {m.text[:300]}'))
        page.on('pageerror', lambda e: problems.append(f'page error on {current["url"]}: {str(e)[:300]}'))
        def on_response(r):
            if _host(r.url) == '127.0.0.1' and r.status >= 400:
                problems.append(f'HTTP {r.status} for {r.url[len(base)-1:]} (from {current["url"]})')
        page.on('response', on_response)
        page.on('requestfailed', lambda r: _host(r.url) == '127.0.0.1' and
                problems.append(f'request failed: {r.url[len(base)-1:]} ({r.failure}) on {current["url"]}'))
        todo, seen, ids, links = [base + 'index.html'], set(), {}, []
        while todo and len(seen) < max_pages:
            url = todo.pop(0)
            if url in seen: continue
            seen.add(url)
            rel = url[len(base)-1:]
            current['url'] = rel
            try: page.goto(url, wait_until='load', timeout=60000)
            except Exception as e:
                problems.append(f'could not load {rel}: {str(e)[:200]}'); continue
            if rel.endswith('search.html'):
                page.fill('input[name="q"]', 'ActiveRegion') if page.query_selector('input[name="q"]') else None
            ids[url] = set(page.evaluate(_IDS_JS))
            for tag, href in page.evaluate(_LINKS_JS):
                if not href or _host(href) != '127.0.0.1': continue
                target, _, frag = href.partition('#')
                links.append((rel, target, frag))
                if tag == 'A' and target.endswith('.html') and target not in seen and target.startswith(base):
                    todo.append(target)
        # every internal link: the file exists, and a #fragment exists in the page
        checked = {}
        for src, target, frag in links:
            path = urllib.parse.unquote(urllib.parse.urlsplit(target).path).lstrip('/')
            f = site/path if path else site/'index.html'
            if f.is_dir(): f = f/'index.html'
            if not f.exists():
                problems.append(f'broken link on {src}: {target[len(base)-1:]} (no such file)'); continue
            if frag and target in ids and urllib.parse.unquote(frag) not in ids[target]:
                problems.append(f'broken link on {src}: {target[len(base)-1:]}#{frag} (no such anchor)')
            checked[(target, frag)] = True
        pages = len(seen)
    problems += [f'request to an outside host blocked: {u}' for u in sorted(set(outside))]
    problems = list(dict.fromkeys(problems))
    for p in problems[:200]: log('  FAIL', p)
    if len(problems) > 200: log(f'  ... and {len(problems) - 200} more')
    log(f'site: {pages} pages crawled, {len(links)} internal links and resources checked ({len(checked)} distinct), '
        f'{len(set(outside))} outside requests, {len(problems)} problems ({time.time()-t0:.0f} s)')
    return len(problems)

# ----------------------------------------------------------------------------------------------------------
# JupyterLab

def tst_flags() -> set:
    c = configparser.ConfigParser(); c.read(ROOT/'settings.ini')
    return set(c['DEFAULT'].get('tst_flags', '').split())

def lab_tree(tmp: Path) -> Path:
    "A copy of nbs/ (so JupyterLab saves nothing into the repository) next to links to the data and settings."
    shutil.copytree(NBS, tmp/'nbs', ignore=shutil.ignore_patterns('.ipynb_checkpoints', '__pycache__'))
    for name in ('example_data', 'settings.ini', 'solarnb', 'docs'):
        if (ROOT/name).exists(): (tmp/name).symlink_to(ROOT/name)
    return tmp

@contextlib.contextmanager
def jupyterlab(root: Path, tmp: Path):
    "JupyterLab on 127.0.0.1 with a token, app exposed to the page (for its commands); stopped on exit."
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]),
               JUPYTER_RUNTIME_DIR=str(tmp/'runtime'), JUPYTERLAB_WORKSPACES_DIR=str(tmp/'workspaces'),
               JUPYTERLAB_SETTINGS_DIR=str(tmp/'settings'), MPLBACKEND='module://matplotlib_inline.backend_inline')
    cmd = [sys.executable, '-m', 'jupyterlab', '--allow-root', '--no-browser', '--ServerApp.ip=127.0.0.1',
           f'--ServerApp.port={port}', '--ServerApp.port_retries=0', f'--IdentityProvider.token={token}',
           f'--ServerApp.root_dir={root}', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
           '--LabApp.expose_app_in_browser=True', '--LabApp.news_url=None', '--LabApp.extension_manager=readonly']
    # every cell in the DOM (JupyterLab 4 otherwise renders only the cells in view), no autosave
    cfg = tmp/'settings'/'@jupyterlab'
    (cfg/'notebook-extension').mkdir(parents=True, exist_ok=True)
    (cfg/'notebook-extension'/'tracker.jupyterlab-settings').write_text(json.dumps({'windowingMode': 'none'}))
    (cfg/'docmanager-extension').mkdir(parents=True, exist_ok=True)
    (cfg/'docmanager-extension'/'plugin.jupyterlab-settings').write_text(json.dumps({'autosave': False}))
    logf = open(tmp/'jupyterlab.log', 'w')
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    base = f'http://127.0.0.1:{port}/'
    try:
        for _ in range(240):
            if proc.poll() is not None: sys.exit(f'JupyterLab exited: see {tmp}/jupyterlab.log\n' + (tmp/'jupyterlab.log').read_text()[-2000:])
            try:
                urllib.request.urlopen(f'{base}api/status?token={token}', timeout=2); break
            except Exception: time.sleep(0.5)
        else: sys.exit('JupyterLab did not start in 120 s')
        yield base, token
    finally:
        try:   # shut the kernels down, then the server
            req = urllib.request.Request(f'{base}api/kernels?token={token}')
            for k in json.loads(urllib.request.urlopen(req, timeout=5).read()):
                urllib.request.urlopen(urllib.request.Request(f'{base}api/kernels/{k["id"]}?token={token}', method='DELETE'), timeout=10)
        except Exception: pass
        proc.terminate()
        try: proc.wait(20)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait()
        logf.close()

# In the page: run the cells one at a time (skipping those the test suite skips), return errors per cell.
_RUN_JS = r"""
async ([skip, timeoutMs]) => {
  const app = window.jupyterapp;
  const nb = app.shell.currentWidget;
  await nb.context.ready; await nb.sessionContext.ready;
  const content = nb.content;
  const res = {ran: 0, skipped: 0, errors: []};
  const t0 = Date.now();
  for (let i = 0; i < content.widgets.length; i++) {
    const cell = content.widgets[i];
    if (cell.model.type !== 'code') continue;
    const src = cell.model.sharedModel.getSource();
    const dirs = (src.match(/^\s*#\s*\|\s*[\w-]+/gm) || []).map(d => d.replace(/^\s*#\s*\|\s*/, ''));
    if (src.includes('nbdev_export' + '(') || /^\s*#\s*\|\s*eval\s*:\s*false/m.test(src) || dirs.some(d => skip.includes(d))) {
      res.skipped++; continue;
    }
    content.activeCellIndex = i;
    const ok = await Promise.race([app.commands.execute('notebook:run-cell'),
                                   new Promise(r => setTimeout(() => r('timeout'), timeoutMs))]);
    res.ran++;
    if (ok === 'timeout') { res.errors.push({cell: i, error: 'timed out after ' + timeoutMs/1000 + ' s'}); break; }
    const outs = cell.model.outputs.toJSON();
    const err = outs.find(o => o.output_type === 'error');
    if (err) { res.errors.push({cell: i, error: err.ename + ': ' + String(err.evalue).slice(0, 300)}); break; }
  }
  res.seconds = (Date.now() - t0) / 1000;
  return res;
}
"""

_ERRORS_JS = r"""
() => {
  const nb = window.jupyterapp.shell.currentWidget;
  const found = [];
  nb.content.widgets.forEach((cell, i) => {
    if (cell.model.type !== 'code') return;
    for (const o of cell.model.outputs.toJSON()) if (o.output_type === 'error') found.push(i + ': ' + o.ename + ': ' + String(o.evalue).slice(0, 200));
  });
  // errors shown inside widget Output areas (callbacks) are rendered as stderr with a traceback
  document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').forEach(e => {
    const t = e.innerText || '';
    if (!/Traceback|Error:/.test(t)) return;
    const last = t.match(/^\w+(Error|Exception)\b.*$/gm);
    found.push('shown in an output: ' + (last ? last[last.length - 1] : t).slice(0, 300));
  });
  return found;
}
"""

_IDLE_JS = "() => { const s = window.jupyterapp.shell.currentWidget.sessionContext; return s.session && s.session.kernel && s.session.kernel.status; }"

def wait_idle(page, timeout: float = 120):
    t = time.time()
    time.sleep(0.3)
    while time.time() - t < timeout:
        try:
            if page.evaluate(_IDLE_JS) == 'idle': return True
        except Exception: pass
        time.sleep(0.3)
    return False

def drive_widgets(page, timeout: float) -> tuple[list[str], list[str]]:
    """Move every slider step by step, pick another option in every dropdown, toggle every checkbox and press
    toggle buttons; after each step, wait for the kernel and collect any error shown. Returns (actions, errors)."""
    done, errors, seen = [], [], set()
    def step(what):
        wait_idle(page, timeout)
        for e in page.evaluate(_ERRORS_JS):
            if e not in seen: seen.add(e); errors.append(f'{e} (after {what})')
    for i, h in enumerate(page.query_selector_all('.jp-OutputArea .widget-slider .noUi-handle')):
        try:
            h.scroll_into_view_if_needed(); h.focus()
            for k in ['ArrowRight'] * 2 + ['ArrowLeft'] * 4 + ['ArrowRight'] * 2:   # both sides, then back
                page.keyboard.press(k); step(f'slider {i} {k}')
            done.append(f'slider {i}: 2 steps right, 4 left, 2 right')
        except Exception as e: done.append(f'slider {i}: could not drive ({str(e)[:80]})')
    for i, s in enumerate(page.query_selector_all('.jp-OutputArea .widget-dropdown select')):
        try:
            opts = s.evaluate('e => Array.from(e.options).map(o => o.value)')
            cur = s.evaluate('e => e.value')
            nxt = next((o for o in opts if o != cur), None)
            if nxt is None: continue
            s.scroll_into_view_if_needed(); s.select_option(nxt); step(f'dropdown {i}')
            done.append(f'dropdown {i}: option {opts.index(nxt)}')
        except Exception as e: done.append(f'dropdown {i}: could not drive ({str(e)[:80]})')
    for i, c in enumerate(page.query_selector_all('.jp-OutputArea .widget-checkbox input[type=checkbox]')):
        try:
            c.scroll_into_view_if_needed(); c.click(); step(f'checkbox {i}'); done.append(f'checkbox {i}: toggled')
        except Exception as e: done.append(f'checkbox {i}: could not drive ({str(e)[:80]})')
    for i, s in enumerate(page.query_selector_all('.jp-OutputArea .widget-toggle-buttons button:not(.mod-active)')[:3]):
        try:
            s.scroll_into_view_if_needed(); s.click(); step(f'toggle button {i}'); done.append(f'toggle button {i}: pressed')
        except Exception as e: done.append(f'toggle button {i}: could not drive ({str(e)[:80]})')
    return done, errors

def check_lab(names: list[str], cell_timeout: float) -> int:
    "Run the notebooks in JupyterLab; return the number of failing notebooks (printed)."
    nbs = sorted(p.name for p in NBS.glob('*.ipynb') if not p.name.startswith(('_', '.')))
    if names:
        nbs = [n for n in nbs if n in names or n[:-6] in names]
        missing = [n for n in names if n not in nbs and n + '.ipynb' not in nbs]
        if missing: sys.exit(f'no such notebook(s): {", ".join(missing)}')
    skip = sorted(tst_flags())
    failed, outside, t_all = 0, [], time.time()
    with tempfile.TemporaryDirectory(prefix='solarnb-lab-') as d:
        tmp = Path(d)
        root = lab_tree(tmp/'tree')
        with jupyterlab(root, tmp) as (base, token), browser() as b:
            log(f'JupyterLab on {base} (root: a temporary copy of nbs/)')
            for name in nbs:
                ctx = b.new_context(viewport={'width': 1400, 'height': 1000})
                guard(ctx, outside)
                page = ctx.new_page()
                console = []
                page.on('console', lambda m: m.type == 'error' and console.append(m.text[:300]))
                page.on('pageerror', lambda e: console.append(str(e)[:300]))
                t0 = time.time()
                try:
                    page.goto(f'{base}lab/tree/nbs/{name}?token={token}', wait_until='domcontentloaded', timeout=120000)
                    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget && "
                                           "window.jupyterapp.shell.currentWidget.sessionContext && "
                                           "window.jupyterapp.shell.currentWidget.sessionContext.session && "
                                           "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel", timeout=180000)
                    wait_idle(page, 120)
                    r = page.evaluate(_RUN_JS, [skip, cell_timeout * 1000])
                    errors = [f'cell {e["cell"]}: {e["error"]}' for e in r['errors']]
                    actions = []
                    if not errors:
                        actions, werr = drive_widgets(page, cell_timeout)
                        errors += werr
                    bad_console = [c for c in console if 'favicon' not in c]
                    status = 'PASS' if not errors else 'FAIL'
                    log(f'{status} {name}: {r["ran"]} cells run, {r["skipped"]} skipped, '
                        f'{len(actions)} widget actions, {time.time()-t0:.0f} s')
                    for a in actions: log(f'     {"note: " if "could not" in a else ""}{a}')
                    for e in errors: log(f'     error: {e}')
                    for c in bad_console[:5]: log(f'     console: {c}')
                    failed += bool(errors)
                except Exception as e:
                    log(f'FAIL {name}: {type(e).__name__}: {str(e)[:300]}'); failed += 1
                finally:
                    try:   # stop this notebook's kernel before the next one starts
                        page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
                    except Exception: pass
                    ctx.close()
    if outside: log(f'  note: {len(set(outside))} request(s) to outside hosts blocked: {", ".join(sorted(set(outside))[:5])}')
    log(f'jupyterlab: {len(nbs) - failed} passed, {failed} failed ({time.time()-t_all:.0f} s)')
    return failed

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('notebooks', nargs='*', help='JupyterLab part: only these notebooks (stems or file names)')
    g = ap.add_mutually_exclusive_group()
    g.add_argument('--site-only', action='store_true', help='only crawl the built site')
    g.add_argument('--lab-only', action='store_true', help='only run notebooks in JupyterLab')
    ap.add_argument('--site', type=Path, default=DOCS/'_build'/'html', help='the built site (default docs/_build/html)')
    ap.add_argument('--serve', action='store_true', help='with --site-only: serve the site on 127.0.0.1 until Ctrl-C')
    ap.add_argument('--port', type=int, default=8000, help='port for --serve (default 8000)')
    ap.add_argument('--cell-timeout', type=float, default=600, help='seconds allowed per cell in JupyterLab (default 600)')
    a = ap.parse_args(argv)
    if a.serve:
        with serve(a.site, a.port) as base:
            log(f'serving {a.site} on {base} (Ctrl-C stops)')
            with contextlib.suppress(KeyboardInterrupt):
                while True: time.sleep(3600)
        return 0
    bad = 0
    if not a.lab_only: bad += check_site(a.site)
    if not a.site_only: bad += check_lab(a.notebooks, a.cell_timeout)
    log('OK' if not bad else f'FAILED ({bad})')
    return 1 if bad else 0

if __name__ == '__main__': sys.exit(main())
